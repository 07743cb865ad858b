import dnsPacket, { type DecodedPacket } from 'dns-packet';
import { DnsServer, RCODE, serviceReply, type Published, type Response } from './dns-server.ts';

export type DnsFault =
  | 'none'
  | 'truncate-udp'
  | 'silent-udp'
  | 'silent'
  | 'servfail'
  | 'refused'
  | 'nxdomain'
  | 'nodata'
  | 'garbage'
  | 'wrong-id'
  | 'wrong-question'
  | 'tcp-in-pieces'
  | 'no-additionals'
  | 'cname-only';

/**
 * The embedded DNS server with a fault switch: what a real server will not do on demand
 * (stay silent, over UDP or at all, send garbage, answer with the wrong ID or question,
 * truncate every UDP answer, dribble a TCP answer in pieces).
 */
export class FaultDns {
  fault: DnsFault = 'none';

  /** Back to a well-behaved server (faults, slowness, silences and counts cleared). */
  reset(): void {
    this.fault = 'none';
    this.late = { ms: 0, types: [], answerFirstOnly: false };
    this.silentTypes.clear();
    this.dropNext.clear();
    this.srvDelays.length = 0;
    this.#asked.clear();
  }
  endpoints: Published[] = [];
  readonly queries: { name: string; type: string; transport: 'udp' | 'tcp' }[] = [];
  /** A name answered with a CNAME to the service (and, unless 'cname-only', its records too). */
  alias: string | null = null;
  /** The zone's SOA serial, answered (for any name, in the authority section) when set. */
  serial: number | null = null;
  /** Whether the SOA comes with the AA bit, as from the zone's own server. */
  soaAuthoritative = true;
  /** A slow server: answers to these record types leave `lateMs` late (0: at once); with `answerFirstOnly`, later questions for the same name go unanswered. */
  late: { ms: number; types: readonly string[]; answerFirstOnly: boolean } = { ms: 0, types: [], answerFirstOnly: false };
  /** How late each of the next SRV answers leaves, one delay per question, in order (made when asked: a late answer says what the zone held then). */
  readonly srvDelays: number[] = [];
  /** Record types never answered (a server that drops them under load). */
  readonly silentTypes = new Set<string>();
  /** Per record type, how many of its next questions go unanswered (dropped once, as by a busy server). */
  readonly dropNext = new Map<string, number>();
  readonly #asked = new Map<string, number>();
  readonly server: DnsServer;
  /** The service's SRV name: the records are answered for it (and an alias points to it). */
  service: string;

  constructor(service: string) {
    this.service = service;
    this.server = new DnsServer((q, t) => this.#respond(q, t));
  }

  get port(): number {
    return this.server.port;
  }

  start(): Promise<number> {
    return this.server.start();
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  #respond(q: DecodedPacket, transport: 'udp' | 'tcp'): Response {
    const question = q.questions?.[0];
    this.queries.push({ name: question?.name ?? '', type: question?.type ?? '', transport });
    const type = question?.type ?? '';
    if (this.silentTypes.has(type)) return null;
    const drops = this.dropNext.get(type) ?? 0;
    if (drops > 0) {
      this.dropNext.set(type, drops - 1);
      return null;
    }
    const delay = type === 'SRV' ? this.srvDelays.shift() : undefined;
    if (delay !== undefined) {
      const reply = this.#faulty(q, transport);
      return reply === null || !Buffer.isBuffer(reply) || delay === 0 ? reply : { late: delay, reply };
    }
    if (this.late.ms > 0 && this.late.types.includes(type)) {
      const key = `${type} ${question?.name ?? ''}`;
      const n = (this.#asked.get(key) ?? 0) + 1;
      this.#asked.set(key, n);
      if (this.late.answerFirstOnly && n > 1) return null;
      const reply = this.#faulty(q, transport);
      return reply === null || !Buffer.isBuffer(reply) ? reply : { late: this.late.ms, reply };
    }
    return this.#faulty(q, transport);
  }

  /** The reply the current fault makes. */
  #faulty(q: DecodedPacket, transport: 'udp' | 'tcp'): Response {
    const question = q.questions?.[0];
    if (this.alias !== null && question?.name.toLowerCase() === this.alias) return this.#aliasReply(q);
    if (question?.type === 'SOA' && this.serial !== null) return this.#soaReply(q, this.serial);
    const plain = (): Buffer => serviceReply(q, transport, this.service, this.endpoints);
    const header = (rcode: number, answers = false): Buffer =>
      dnsPacket.encode({
        type: 'response',
        id: q.id ?? 0,
        flags: rcode,
        questions: q.questions ?? [],
        answers: answers ? (dnsPacket.decode(plain()).answers ?? []) : [],
      });
    switch (this.fault) {
      case 'none':
        return plain();
      case 'truncate-udp':
        return transport === 'udp'
          ? dnsPacket.encode({ type: 'response', id: q.id ?? 0, flags: dnsPacket.TRUNCATED_RESPONSE, questions: q.questions ?? [] })
          : plain();
      case 'silent':
        return null;
      case 'silent-udp':
        return transport === 'udp' ? null : plain();
      case 'servfail':
        return header(RCODE.SERVFAIL);
      case 'refused':
        return header(RCODE.REFUSED);
      case 'nxdomain':
        return header(RCODE.NXDOMAIN);
      case 'nodata':
        return header(RCODE.NOERROR);
      case 'garbage':
        return Buffer.from('\u0000\u0001this is not a DNS message');
      case 'wrong-id': {
        const b = plain();
        b.writeUInt16BE(((q.id ?? 0) + 1) & 0xffff, 0);
        return b;
      }
      case 'wrong-question':
        return dnsPacket.encode({
          type: 'response',
          id: q.id ?? 0,
          questions: [{ name: 'evil.example', type: question?.type ?? 'SRV', class: 'IN' }],
          answers: [],
        });
      case 'tcp-in-pieces': {
        if (transport === 'udp')
          return dnsPacket.encode({ type: 'response', id: q.id ?? 0, flags: dnsPacket.TRUNCATED_RESPONSE, questions: q.questions ?? [] });
        const b = plain();
        const pieces: Buffer[] = [];
        const size = Math.ceil(b.length / 5);
        for (let i = 0; i < b.length; i += size) pieces.push(b.subarray(i, i + size));
        return { pieces };
      }
      case 'cname-only':
        return plain();
      case 'no-additionals': {
        const p = dnsPacket.decode(plain());
        return dnsPacket.encode({
          type: 'response',
          id: q.id ?? 0,
          flags: p.flags ?? 0,
          questions: p.questions ?? [],
          answers: p.answers ?? [],
        });
      }
    }
  }

  #soaReply(q: DecodedPacket, serial: number): Buffer {
    const zone = this.service.split('.').slice(-2).join('.');
    const data = { mname: `ns.${zone}`, rname: `admin.${zone}`, serial, refresh: 60, retry: 60, expire: 600, minimum: 5 };
    return dnsPacket.encode({
      type: 'response',
      id: q.id ?? 0,
      flags: this.soaAuthoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0,
      questions: q.questions ?? [],
      authorities: [{ type: 'SOA', name: zone, ttl: 5, data }],
    });
  }

  #aliasReply(q: DecodedPacket): Buffer {
    const question = q.questions?.[0];
    const cname = { type: 'CNAME' as const, name: this.alias ?? '', ttl: 5, data: this.service };
    const target = dnsPacket.decode(
      serviceReply(
        { ...q, questions: [{ name: this.service, type: question?.type ?? 'SRV', class: 'IN' }] },
        'tcp',
        this.service,
        this.endpoints,
      ),
    );
    const chained = this.fault === 'cname-only' ? [] : (target.answers ?? []);
    return dnsPacket.encode({
      type: 'response',
      id: q.id ?? 0,
      flags: dnsPacket.AUTHORITATIVE_ANSWER,
      questions: q.questions ?? [],
      answers: [cname, ...chained],
      additionals: this.fault === 'cname-only' ? [] : (target.additionals ?? []),
    });
  }
}

/** n endpoints on 127.0.2.x, published as a headless service does. */
export function published(n: number, port = 8080, from = 1): Published[] {
  return Array.from({ length: n }, (_, i) => {
    const k = from + i;
    const address = `127.0.${String(2 + Math.floor(k / 250))}.${String(k % 250)}`;
    return {
      address,
      port,
      weight: Math.floor(100 / n),
      priority: 0,
      host: `${address.replaceAll('.', '-')}.web.default.svc.cluster.local`,
    };
  });
}
