import dgram from 'node:dgram';
import net from 'node:net';
import { describeNameserver, type Nameserver } from '../config/model.ts';
import { DnsError } from '../errors.ts';
import { randomId } from './ids.ts';
import { decodeKnown, encodeQuery, normalizeName, type KnownReply, type Question, type Reply } from './message.ts';
import type { SerialReading } from './serial-trust.ts';
import type { TransportHooks } from './transport.ts';

/**
 * The serial of the zone holding a name: an SOA question for the name itself, which an
 * authoritative server answers with the zone's SOA (in the answer at the apex, in the
 * authority section below it). BIND raises the serial with every change; CoreDNS's
 * kubernetes plugin sets it to the time of the last change it saw (to the second).
 *
 * Asked several times a second, so over one long-lived UDP socket per nameserver, not a
 * socket a question like the resolver's: opening and closing one cost more than the rest
 * of the watch. A reply forged to this fixed port could at worst bring a DNS run early or
 * hide a change until the next interval, which stays the bound.
 */
export class SerialAsker {
  readonly #hooks: TransportHooks;
  #sock: { key: string; sock: dgram.Socket; connected: Promise<void> } | null = null;
  readonly #waiting = new Map<number, Readonly<{ reply: (msg: Buffer) => void; fail: (e: Error) => void }>>();
  /** The last reply and what it said: the same bytes (but the ID) are not decoded again, several times a second. */
  #last: { known: KnownReply; reading: SerialReading | null } | null = null;

  constructor(hooks: TransportHooks) {
    this.#hooks = hooks;
  }

  /** The zone's SOA as read, or null when the answer holds none; a DnsError when no answer came. */
  async ask(ns: Nameserver, name: string, timeoutMs: number): Promise<{ reading: SerialReading | null; rcode: string }> {
    const q: Question = { name, type: 'SOA' };
    const { sock, connected } = this.#socket(ns);
    await connected.catch((e: unknown) => {
      throw new DnsError('unreachable', `${describeNameserver(ns)}: ${e instanceof Error ? e.message : String(e)} (udp)`, 'udp');
    });
    return new Promise((resolve, reject) => {
      let id = randomId();
      while (this.#waiting.has(id)) id = (id + 1) & 0xffff;
      const where = describeNameserver(ns);
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new DnsError('timeout', `${where} did not answer SOA ${name} within ${String(timeoutMs)}ms (udp)`, 'udp'));
      }, timeoutMs);
      const reply = (msg: Buffer): void => {
        const last = this.#last;
        const r = decodeKnown(msg, q, id, last?.known);
        if (typeof r === 'string') {
          this.#hooks.dropped(ns, 'udp', r);
          return;
        }
        clearTimeout(timer);
        this.#waiting.delete(id);
        if (last?.known.reply !== r) this.#last = { known: { raw: Buffer.from(msg), reply: r }, reading: readingOf(r) };
        resolve({ reading: this.#last?.reading ?? null, rcode: r.rcode });
      };
      const fail = (e: Error): void => {
        clearTimeout(timer);
        this.#waiting.delete(id);
        reject(new DnsError('unreachable', `${where}: ${e.message} (udp)`, 'udp'));
      };
      this.#waiting.set(id, { reply, fail });
      // No callback: a send that fails is an 'error' event, which fails the questions waiting.
      sock.send(encodeQuery(q, id));
    });
  }

  /** The socket to `ns`, connected (the kernel then delivers its datagrams only), opened again for another nameserver. */
  #socket(ns: Nameserver): { sock: dgram.Socket; connected: Promise<void> } {
    const key = describeNameserver(ns);
    if (this.#sock?.key === key) return this.#sock;
    this.#sock?.sock.close();
    const sock = dgram.createSocket(net.isIPv6(ns.host) ? 'udp6' : 'udp4');
    sock.unref(); // never what keeps the process alive
    sock.on('message', (msg) => {
      const waiting = msg.length >= 2 ? this.#waiting.get(msg.readUInt16BE(0)) : undefined;
      if (waiting === undefined) this.#hooks.dropped(ns, 'udp', 'wrong-id');
      else waiting.reply(msg);
    });
    sock.on('error', (e) => {
      // Port unreachable and the like: the questions waiting fail, the next one opens a new socket.
      for (const w of [...this.#waiting.values()]) w.fail(e);
      if (this.#sock?.sock === sock) this.#sock = null;
      try {
        sock.close();
      } catch {
        // closed already
      }
    });
    const connected = new Promise<void>((resolve, reject) => {
      sock.once('error', reject); // before it connects: every question waiting fails at once
      sock.connect(ns.port, ns.host, resolve);
    });
    this.#sock = { key, sock, connected };
    return this.#sock;
  }
}

function readingOf(r: Reply): SerialReading | null {
  const soa = [...r.answers, ...(r.authorities ?? [])].find((a) => a.type === 'SOA');
  if (soa?.type !== 'SOA' || typeof soa.data.serial !== 'number') return null;
  return { serial: soa.data.serial, zone: normalizeName(soa.name), ttl: soa.ttl ?? 0, authoritative: r.authoritative === true };
}
