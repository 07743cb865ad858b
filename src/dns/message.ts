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
  // The same question is asked every pass: encoded once, then only its ID changes.
  const key = `${q.type} ${q.name}`;
  let bytes = encoded.get(key);
  if (bytes === undefined) {
    bytes = dnsPacket.encode({
      type: 'query',
      id: 0,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: q.type, name: q.name, class: 'IN' }],
      additionals: [
        { type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] },
      ],
    });
    if (encoded.size >= ENCODED_MAX) encoded.clear();
    encoded.set(key, bytes);
  }
  const out = Buffer.from(bytes);
  out.writeUInt16BE(id, 0);
  return out;
}

/** Encoded questions, kept for reuse; a few thousand (the targets of a large service). */
const encoded = new Map<string, Buffer>();
const ENCODED_MAX = 8_192;

export const normalizeName = (n: string): string => n.toLowerCase().replace(/\.$/, '');

/**
 * Decodes `bytes` and accepts them only as the reply to (q, id): a response, the same ID,
 * the same single question. Everything else is a Rejection; it never throws.
 */
/** A reply already decoded, with its bytes: the same bytes again (but the ID) need no decoding. */
export type KnownReply = Readonly<{ raw: Buffer; reply: Reply }>;

/**
 * decodeReply, skipped when `bytes` are those of `known` but for the ID, which must be
 * `id`: the same answer to the same question, already checked. A pass at rest gets the
 * same 60 KB answer every interval; decoding it each time was most of the pass.
 */
export function decodeKnown(bytes: Buffer, q: Question, id: number, known: KnownReply | undefined): Reply | Rejection {
  if (
    known !== undefined &&
    bytes.length === known.raw.length &&
    bytes.readUInt16BE(0) === id &&
    bytes.compare(known.raw, 2, known.raw.length, 2) === 0
  ) {
    return known.reply;
  }
  return decodeReply(bytes, q, id);
}

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
