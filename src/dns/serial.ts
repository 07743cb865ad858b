import { describeNameserver, type Nameserver } from '../config/model.ts';
import { DnsError } from '../errors.ts';
import { normalizeName, type KnownReply, type Question, type Reply } from './message.ts';
import type { SerialReading } from './serial-trust.ts';
import { sendTry, type TransportHooks } from './transport.ts';

/**
 * The serial of the zone holding a name: an SOA question for the name itself, which an
 * authoritative server answers with the zone's SOA (in the answer at the apex, in the
 * authority section below it). BIND raises the serial with every change; CoreDNS's
 * kubernetes plugin sets it to the time of the last change it saw (to the second).
 *
 * Each question goes from a socket of its own, on a fresh random source port with a fresh
 * random ID (RFC 5452): a forged reply must guess both, not the ID alone, to bring a DNS
 * run early or hide a change (the interval stays the bound either way).
 */
export class SerialAsker {
  readonly #hooks: TransportHooks;
  /** The last reply and what it said: the same bytes (but the ID) are not decoded again, several times a second. */
  #last: { known: KnownReply; reading: SerialReading | null } | null = null;

  constructor(hooks: TransportHooks) {
    this.#hooks = hooks;
  }

  /** The zone's SOA as read, or null when the answer holds none; a DnsError when no answer came. */
  ask(ns: Nameserver, name: string, timeoutMs: number): Promise<{ reading: SerialReading | null; rcode: string }> {
    const q: Question = { name, type: 'SOA' };
    return new Promise((resolve, reject) => {
      const last = this.#last;
      const t = sendTry(ns, 'udp', q, this.#hooks, last?.known, (o) => {
        clearTimeout(timer);
        if (o instanceof DnsError) {
          reject(o);
          return;
        }
        if (this.#last?.known.reply !== o.reply)
          this.#last = { known: { raw: Buffer.from(o.raw), reply: o.reply }, reading: readingOf(o.reply) };
        resolve({ reading: this.#last.reading, rcode: o.reply.rcode });
      });
      const timer = setTimeout(() => {
        t.close();
        reject(new DnsError('timeout', `${describeNameserver(ns)} did not answer SOA ${name} within ${String(timeoutMs)}ms (udp)`, 'udp'));
      }, timeoutMs);
    });
  }
}

function readingOf(r: Reply): SerialReading | null {
  const soa = [...r.answers, ...(r.authorities ?? [])].find((a) => a.type === 'SOA');
  if (soa?.type !== 'SOA' || typeof soa.data.serial !== 'number') return null;
  return { serial: soa.data.serial, zone: normalizeName(soa.name), ttl: soa.ttl ?? 0, authoritative: r.authoritative === true };
}
