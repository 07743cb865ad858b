/**
 * Another client's load on the DNS server, and a probe of the server's own answer time:
 * what makes a server busy and how busy it is. Loopback only; every rate, count and time
 * is bounded, and the load stops by itself.
 */
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';

const MAX_QPS = 100_000;
const MAX_LOAD_MS = 600_000;
/** The load is sent in ticks of this many milliseconds. */
const TICK_MS = 5;
/** After a pause of the event loop, at most this many ticks' worth goes out at once (no catch-up burst). */
const CATCH_UP_TICKS = 4;
/** Queries prepared in advance (each sent with a fresh ID). */
const POOL = 4_096;
const SOCKETS = 8;
/** Probe answers kept, at most (one every 100 ms: 10 minutes). */
const MAX_PROBES = 6_000;

const assertLoopback = (host: string, who: string): void => {
  if (host !== '127.0.0.1' && host !== '::1') throw new Error(`${who}: ${host} is not loopback; expected 127.0.0.1 or ::1`);
};

const randomLabel = (): string => `q${Math.random().toString(36).slice(2, 10)}`;

export type LoadOptions = Readonly<{
  host: string;
  port: number;
  /** Questions a second, sent whether or not the earlier ones were answered: another client does not wait for this one. */
  qps: number;
  /** It stops by itself after this long (and so after qps x maxMs / 1000 questions). */
  maxMs: number;
  /** The zone the random names are made in (they do not exist there: NXDOMAIN). */
  zone: string;
  /** Names that exist, asked beside the random ones: a busy server serves its real records too. */
  real: readonly Readonly<{ name: string; type: 'A' | 'SRV' }>[];
}>;

/**
 * Questions over UDP at a steady rate from a few sockets: a third random names in the zone
 * (NXDOMAIN), a third random names outside it (REFUSED: no recursion), a third names of
 * the zone that exist. Replies are counted, not read.
 */
export class DnsLoad {
  readonly #o: LoadOptions;
  readonly #pool: Buffer[];
  readonly #socks: dgram.Socket[] = [];
  #timer: NodeJS.Timeout | null = null;
  #startedAt = 0;
  #next = 0;
  readonly stats = { sent: 0, answered: 0, ms: 0 };

  constructor(o: LoadOptions) {
    assertLoopback(o.host, 'DnsLoad');
    if (!(o.qps > 0 && o.qps <= MAX_QPS)) throw new Error(`DnsLoad: ${String(o.qps)} questions a second; expected 1 to ${String(MAX_QPS)}`);
    if (!(o.maxMs > 0 && o.maxMs <= MAX_LOAD_MS)) throw new Error(`DnsLoad: ${String(o.maxMs)} ms; expected 1 to ${String(MAX_LOAD_MS)}`);
    this.#o = o;
    this.#pool = Array.from({ length: POOL }, (_, i) => {
      const kind = i % 3;
      const real = o.real[Math.floor(i / 3) % Math.max(1, o.real.length)];
      const q =
        kind === 2 && real !== undefined
          ? { name: real.name, type: real.type }
          : { name: kind === 0 ? `${randomLabel()}.${o.zone}` : `${randomLabel()}.example.net`, type: 'A' as const };
      return dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ ...q, class: 'IN' }] });
    });
  }

  get running(): boolean {
    return this.#timer !== null;
  }

  async start(): Promise<void> {
    for (let i = 0; i < SOCKETS; i++) {
      const s = dgram.createSocket('udp4');
      s.on('message', () => {
        this.stats.answered++;
      });
      s.on('error', () => undefined); // a refused datagram on a busy loopback: the load goes on
      await new Promise<void>((resolve) => {
        s.connect(this.#o.port, this.#o.host, resolve);
      });
      this.#socks.push(s);
    }
    this.#startedAt = performance.now();
    const limit = Math.floor((this.#o.qps * this.#o.maxMs) / 1000);
    const perTick = (this.#o.qps * TICK_MS) / 1000;
    this.#timer = setInterval(() => {
      const elapsed = performance.now() - this.#startedAt;
      if (elapsed >= this.#o.maxMs || this.stats.sent >= limit) {
        void this.stop();
        return;
      }
      const due = Math.min(Math.floor((this.#o.qps * elapsed) / 1000) - this.stats.sent, Math.ceil(perTick * CATCH_UP_TICKS));
      for (let i = 0; i < due; i++) this.#send();
    }, TICK_MS);
  }

  #send(): void {
    const n = this.#next++;
    const q = this.#pool[n % POOL];
    const s = this.#socks[n % SOCKETS];
    if (q === undefined || s === undefined) return;
    const buf = Buffer.from(q);
    buf.writeUInt16BE(Math.floor(Math.random() * 0x10000), 0);
    s.send(buf);
    this.stats.sent++;
  }

  /** Stops sending; replies still in flight are let go with the sockets. */
  async stop(): Promise<void> {
    if (this.#timer === null) return;
    clearInterval(this.#timer);
    this.#timer = null;
    this.stats.ms = performance.now() - this.#startedAt;
    await new Promise((r) => setTimeout(r, 200)); // the last replies
    for (const s of this.#socks.splice(0)) s.close();
  }
}

/** One question over UDP on a socket of its own: the time to its answer, or null past `timeoutMs`. */
export function timeQuestion(
  host: string,
  port: number,
  name: string,
  type: 'SOA' | 'A' | 'SRV',
  timeoutMs: number,
): Promise<number | null> {
  assertLoopback(host, 'timeQuestion');
  return new Promise((resolve) => {
    const id = Math.floor(Math.random() * 0x10000);
    const s = dgram.createSocket('udp4');
    let t0 = 0;
    const done = (ms: number | null): void => {
      clearTimeout(timer);
      s.close();
      resolve(ms);
    };
    const timer = setTimeout(() => {
      done(null);
    }, timeoutMs);
    s.on('error', () => {
      done(null);
    });
    s.on('message', (msg) => {
      if (msg.length >= 2 && msg.readUInt16BE(0) === id) done(performance.now() - t0);
    });
    s.connect(port, host, () => {
      t0 = performance.now();
      s.send(dnsPacket.encode({ type: 'query', id, questions: [{ name, type, class: 'IN' }] }));
    });
  });
}

/** The server's own answer time, asked every `everyMs`: each answer's time, null for one not had within the timeout. */
export class AnswerProbe {
  readonly #ask: () => Promise<number | null>;
  readonly #everyMs: number;
  #timer: NodeJS.Timeout | null = null;
  readonly #pending = new Set<Promise<unknown>>();
  readonly times: (number | null)[] = [];

  constructor(ask: () => Promise<number | null>, everyMs: number) {
    this.#ask = ask;
    this.#everyMs = everyMs;
  }

  start(): void {
    this.#timer = setInterval(() => {
      if (this.times.length + this.#pending.size >= MAX_PROBES) return;
      const p = this.#ask().then((ms) => {
        this.times.push(ms);
      });
      this.#pending.add(p);
      void p.finally(() => this.#pending.delete(p));
    }, this.#everyMs);
  }

  /** Stops asking and waits for the questions out. */
  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await Promise.all(this.#pending);
  }
}
