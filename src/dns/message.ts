import dnsPacket, { type Answer, type DecodedPacket, type RecordType } from 'dns-packet';

/**
 * The DNS wire format, kept apart from sockets: build a query, and decide whether bytes
 * that arrived are the answer to it. dns-packet does the encoding; this module owns the
 * rules for trusting a reply.
 */

/** EDNS0 payload size advertised: the DNS Flag Day 2020 value, which BIND also caps UDP at. */
export const EDNS_UDP_SIZE = 1232;

export type Question = Readonly<{ name: string; type: RecordType }>;

export type Reply = Readonly<{
  rcode: string;
  truncated: boolean;
  answers: readonly Answer[];
  additionals: readonly Answer[];
}>;

/** Why bytes that arrived were not taken as the answer. */
export type Rejection = 'malformed' | 'not-a-response' | 'wrong-id' | 'wrong-question';

export function encodeQuery(q: Question, id: number): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: q.type, name: q.name, class: 'IN' }],
    additionals: [
      { type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] },
    ],
  });
}

export const normalizeName = (n: string): string => n.toLowerCase().replace(/\.$/, '');

/**
 * Decodes `bytes` and accepts them only as the reply to (q, id): a response, the same ID,
 * the same single question. Everything else is a Rejection; it never throws.
 */
export function decodeReply(bytes: Buffer, q: Question, id: number): Reply | Rejection {
  let p: DecodedPacket & { rcode?: string };
  try {
    p = dnsPacket.decode(bytes);
  } catch {
    return 'malformed';
  }
  if (p.type !== 'response') return 'not-a-response';
  if (p.id !== id) return 'wrong-id';
  const [question, ...more] = p.questions ?? [];
  if (question === undefined || more.length > 0) return 'wrong-question';
  if (normalizeName(question.name) !== normalizeName(q.name) || question.type !== q.type) return 'wrong-question';
  return {
    rcode: p.rcode ?? 'NOERROR',
    truncated: p.flag_tc,
    answers: p.answers ?? [],
    additionals: p.additionals ?? [],
  };
}
