/**
 * A DNS server whose answers to some questions leave late: a proxy on 127.0.0.1 in front of
 * a real server (BIND), over UDP and over TCP (two-byte length framing), that forwards every
 * question and holds the answers to the delayed types (SRV by default) for `delayMs`, as a
 * CoreDNS under a rollout storm or a throttled node cache answers. The answers go back byte
 * for byte as the server sent them: same ID, same question.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { frameTcp, TcpFrameReader } from '../src/dns/framing.ts';

/** Question types by number (RFC 1035, 2782, 3596): those a delay may be asked for. */
const TYPES = { A: 1, NS: 2, SOA: 6, AAAA: 28, SRV: 33 } as const;
export type DelayedType = keyof typeof TYPES;

export type DelayOptions = Readonly<{
  /** The real server, on loopback. */
  upstream: Readonly<{ host: string; port: number }>;
  delayMs: number;
  /** Whose answers are held back; the others are passed at once. */
  delayed?: readonly DelayedType[];
}>;

/** How long a forwarded UDP question waits for the server before its socket is closed. */
const UDP_FORWARD_MS = 10_000;
/** Questions in flight over UDP at once; past it a question is dropped, as a busy server would. */
const UDP_IN_FLIGHT = 1_000;
/** TCP clients at once. */
const TCP_CLIENTS = 64;

/** The type of a message's first question, read from its bytes (null when it has none or is cut short). */
export function questionType(msg: Buffer): number | null {
  if (msg.length < 12 || msg.readUInt16BE(4) === 0) return null;
  let at = 12;
  for (;;) {
    const len = msg[at];
    if (len === undefined) return null;
    if (len === 0) {
      at += 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      at += 2;
      break;
    }
    at += 1 + len;
  }
  return at + 2 <= msg.length ? msg.readUInt16BE(at) : null;
}

export class DelayingDnsProxy {
  readonly #o: DelayOptions;
  readonly #delayed: ReadonlySet<number>;
  #udp: dgram.Socket | null = null;
  #tcp: net.Server | null = null;
  readonly #forwards = new Set<dgram.Socket>();
  readonly #conns = new Set<net.Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  port = 0;
  /** Answers passed on, and how many of them were held back. */
  readonly stats = { questions: 0, answers: 0, held: 0, dropped: 0 };
  /** performance.now() when a question came first since this was last set to null. */
  firstQuestionAt: number | null = null;
  /** performance.now() when the server's last answer of a delayed type came, to be held: what the zone held then is on its way. */
  lastHeldAt: number | null = null;

  constructor(o: DelayOptions) {
    const loopback = o.upstream.host === '127.0.0.1' || o.upstream.host === '::1';
    if (!loopback) throw new Error(`DelayingDnsProxy: upstream ${o.upstream.host} is not loopback; expected 127.0.0.1 or ::1`);
    this.#o = o;
    this.#delayed = new Set((o.delayed ?? ['SRV']).map((t) => TYPES[t]));
  }

  /** Listens on one port of 127.0.0.1, UDP and TCP (a free TCP port, then UDP on it, tried again if UDP has it). */
  async start(): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const tcp = net.createServer({ allowHalfOpen: true }, (c) => {
        this.#serveTcp(c);
      });
      tcp.maxConnections = TCP_CLIENTS;
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(0, '127.0.0.1', resolve);
      });
      const address = tcp.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const udp = dgram.createSocket('udp4');
      const bound = await new Promise<boolean>((resolve) => {
        udp.once('error', () => {
          resolve(false);
        });
        udp.bind(port, '127.0.0.1', () => {
          resolve(true);
        });
      });
      if (bound) {
        udp.on('message', (msg, rinfo) => {
          this.#forwardUdp(udp, msg, rinfo);
        });
        this.#tcp = tcp;
        this.#udp = udp;
        this.port = port;
        return port;
      }
      udp.close();
      await new Promise<void>((resolve) =>
        tcp.close(() => {
          resolve();
        }),
      );
      if (attempt >= 10) throw new Error('DelayingDnsProxy: no port free for both UDP and TCP on 127.0.0.1');
    }
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const s of this.#forwards) s.close();
    this.#forwards.clear();
    for (const c of this.#conns) c.destroy();
    this.#conns.clear();
    this.#udp?.close();
    this.#udp = null;
    const tcp = this.#tcp;
    this.#tcp = null;
    if (tcp !== null)
      await new Promise<void>((resolve) =>
        tcp.close(() => {
          resolve();
        }),
      );
  }

  #counted(): void {
    this.stats.questions++;
    this.firstQuestionAt ??= performance.now();
  }

  /** Passes `answer` on now, or after the delay when its question is of a delayed type. */
  #pass(answer: Buffer, send: () => void): void {
    this.stats.answers++;
    const type = questionType(answer);
    if (type === null || !this.#delayed.has(type)) {
      send();
      return;
    }
    this.stats.held++;
    this.lastHeldAt = performance.now();
    const t = setTimeout(() => {
      this.#timers.delete(t);
      send();
    }, this.#o.delayMs);
    this.#timers.add(t);
  }

  /** Each question on a socket of its own toward the server: answers come back with the ID the client chose. */
  #forwardUdp(server: dgram.Socket, msg: Buffer, client: dgram.RemoteInfo): void {
    this.#counted();
    if (this.#forwards.size >= UDP_IN_FLIGHT) {
      this.stats.dropped++;
      return;
    }
    const up = dgram.createSocket('udp4');
    this.#forwards.add(up);
    const close = (): void => {
      clearTimeout(timer);
      this.#timers.delete(timer);
      if (this.#forwards.delete(up)) up.close();
    };
    const timer = setTimeout(close, UDP_FORWARD_MS);
    this.#timers.add(timer);
    up.on('error', close);
    up.once('message', (answer) => {
      close();
      this.#pass(answer, () => {
        if (this.#udp === server) server.send(answer, client.port, client.address);
      });
    });
    up.connect(this.#o.upstream.port, this.#o.upstream.host, () => {
      up.send(msg);
    });
  }

  /** One connection to the server per client connection; every answer framed back on its own schedule. */
  #serveTcp(client: net.Socket): void {
    this.#conns.add(client);
    const up = net.connect(this.#o.upstream.port, this.#o.upstream.host);
    this.#conns.add(up);
    const fromClient = new TcpFrameReader();
    const fromServer = new TcpFrameReader();
    let waiting = 0; // questions whose answer has not gone back yet
    let ended = false; // the client has sent all it will send
    const close = (): void => {
      client.destroy();
      up.destroy();
      this.#conns.delete(client);
      this.#conns.delete(up);
    };
    client.on('data', (chunk: Buffer) => {
      for (const q of fromClient.push(chunk)) {
        this.#counted();
        waiting++;
        up.write(frameTcp(q));
      }
    });
    up.on('data', (chunk: Buffer) => {
      for (const answer of fromServer.push(chunk)) {
        this.#pass(answer, () => {
          waiting--;
          if (client.destroyed) return;
          client.write(frameTcp(answer));
          if (ended && waiting <= 0) client.end(close);
        });
      }
    });
    // A client that half-closes after its questions still gets their answers, late ones too.
    client.on('end', () => {
      ended = true;
      if (waiting <= 0) client.end(close);
    });
    client.on('close', close);
    client.on('error', close);
    up.on('error', close);
    up.on('end', () => {
      if (waiting <= 0) close();
    });
  }
}
