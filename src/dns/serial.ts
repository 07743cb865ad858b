import dgram from 'node:dgram';
import net from 'node:net';
import { describeNameserver, type Nameserver } from '../config/model.ts';
import { DnsError } from '../errors.ts';
import { randomId } from './ids.ts';
import { decodeReply, encodeQuery, normalizeName, type Question } from './message.ts';
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
  readonly #waiting = new Map<number, (msg: Buffer) => void>();

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
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new DnsError('timeout', `${describeNameserver(ns)} did not answer SOA ${name} within ${String(timeoutMs)}ms (udp)`, 'udp'));
      }, timeoutMs);
      this.#waiting.set(id, (msg) => {
        const r = decodeReply(msg, q, id);
        if (typeof r === 'string') {
          this.#hooks.dropped(ns, 'udp', r);
          return;
        }
        clearTimeout(timer);
        this.#waiting.delete(id);
        const soa = [...r.answers, ...(r.authorities ?? [])].find((a) => a.type === 'SOA');
        const serial = soa?.type === 'SOA' ? soa.data.serial : undefined;
        const reading =
          soa === undefined || typeof serial !== 'number'
            ? null
            : { serial, zone: normalizeName(soa.name), ttl: soa.ttl ?? 0, authoritative: r.authoritative === true };
        resolve({ reading, rcode: r.rcode });
      });
      sock.send(encodeQuery(q, id), (e) => {
        if (e === null) return;
        clearTimeout(timer);
        this.#waiting.delete(id);
        reject(new DnsError('unreachable', `${describeNameserver(ns)}: ${e.message} (udp)`, 'udp'));
      });
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
      const handle = msg.length >= 2 ? this.#waiting.get(msg.readUInt16BE(0)) : undefined;
      if (handle === undefined) this.#hooks.dropped(ns, 'udp', 'wrong-id');
      else handle(msg);
    });
    sock.on('error', () => {
      // Port unreachable and the like: the question times out, the next one opens a new socket.
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
