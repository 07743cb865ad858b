import dnsPacket, { type Answer, type DecodedPacket, type RecordType } from 'dns-packet';

/**
 * The DNS wire format, kept apart from sockets: build a query, and decide whether bytes
 * that arrived are the answer to it. dns-packet does the encoding; this module owns the
 * rules for trusting a reply.
 */

/** EDNS0 payload size advertised: the DNS Flag Day 2020 value, which BIND also caps UDP at. */
export const EDNS_UDP_SIZE = 1232;

export type Question = Readonly<{
  name: string;
  type: RecordType;
  /** The query with ID 0 (queryTemplate), encoded once, when the question is kept to be asked again. */
  template?: Buffer;
}>;

/** A question that is kept and asked again: its query encoded once, with it (and forgotten with it). */
export const keptQuestion = (name: string, type: RecordType): Question => ({ name, type, template: encodeTemplate(name, type) });

export type Reply = Readonly<{
  rcode: string;
  truncated: boolean;
  answers: readonly Answer[];
  additionals: readonly Answer[];
  /** The authority section (a negative answer's SOA); absent where no one needs it. */
  authorities?: readonly Answer[];
  /** The AA bit: the server answered from its own zone, not from a cache (absent: unknown). */
  authoritative?: boolean;
}>;

/** Why bytes that arrived were not taken as the answer. */
export type Rejection = 'malformed' | 'not-a-response' | 'wrong-id' | 'wrong-question';

export function encodeQuery(q: Question, id: number): Buffer {
  const out = Buffer.from(queryTemplate(q));
  out.writeUInt16BE(id, 0);
  return out;
}

/**
 * The query for `q` with ID 0: the one a kept question carries, else encoded now. Shared:
 * copy it before writing an ID into it.
 */
export function queryTemplate(q: Question): Buffer {
  return q.template ?? encodeTemplate(q.name, q.type);
}

function encodeTemplate(name: string, type: RecordType): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: 0,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    additionals: [
      { type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] },
    ],
  });
}

export const normalizeName = (n: string): string => n.toLowerCase().replace(/\.$/, '');

/** A reply already decoded, with its bytes and its signature: a reply that says the same needs no decoding. */
export type KnownReply = Readonly<{ raw: Buffer; reply: Reply; signature?: string | null }>;

/** A reply taken as the answer: `same` when it is the known reply (the same bytes but the ID), not decoded again. */
export type Taken = Readonly<{ reply: Reply; same: true }> | Readonly<{ reply: Reply; same: false }>;

/**
 * decodeReply, skipped when `bytes` are those of `known` but for the ID, which must be
 * `id`: the same answer to the same question, already checked (`same`). A pass at rest gets
 * the same 60 KB answer every interval; decoding it each time was most of the pass.
 */
export function decodeKnown(bytes: Buffer, q: Question, id: number, known: KnownReply | undefined): Taken | Rejection {
  if (known !== undefined && bytes.length >= 2 && bytes.readUInt16BE(0) === id) {
    if (bytes.length === known.raw.length && bytes.compare(known.raw, 2, known.raw.length, 2) === 0)
      return { reply: known.reply, same: true };
    // Servers rotate the records of an answer: the same records in another order say the same.
    if (known.signature !== undefined && known.signature !== null && replySignature(bytes) === known.signature)
      return { reply: known.reply, same: true };
  }
  const reply = decodeReply(bytes, q, id);
  return typeof reply === 'string' ? reply : { reply, same: false };
}

/**
 * What a reply says, whatever the order of its records: its flags and counts, its question,
 * and each A, AAAA, SRV, CNAME and OPT record (its section, owner, type, class, TTL and
 * data, every name read out in full so that no compression pointer can make two different
 * replies look alike), hashed one by one and the hashes summed, so that order does not
 * count. Two 32-bit hashes a record, and their sums and xor: a 60 KB answer is read in a
 * fraction of a millisecond, with no string built. null for a reply holding another record
 * type, or one this reader cannot read: it is then decoded in full.
 */
export function replySignature(bytes: Buffer): string | null {
  if (bytes.length < 12) return null;
  const counts = [bytes.readUInt16BE(4), bytes.readUInt16BE(6), bytes.readUInt16BE(8), bytes.readUInt16BE(10)] as const;
  const h = new RecordHash(bytes);
  let pos = 12;
  for (let i = 0; i < counts[0]; i++) {
    h.start(i);
    pos = h.name(pos);
    if (pos < 0 || pos + 4 > bytes.length) return null;
    h.bytes(pos, pos + 4);
    pos += 4;
    h.add();
  }
  let section = 1;
  let left = counts[1];
  let sum1 = 0;
  let sum2 = 0;
  let xor = 0;
  for (let i = 0; i < counts[1] + counts[2] + counts[3]; i++) {
    while (left === 0) left = counts[++section] ?? 1;
    left--;
    h.start(section);
    const next = h.name(pos);
    if (next < 0 || next + 10 > bytes.length) return null;
    const type = bytes.readUInt16BE(next);
    const len = bytes.readUInt16BE(next + 8);
    const rdata = next + 10;
    if (rdata + len > bytes.length) return null;
    h.bytes(next, next + 8); // type, class, TTL
    if (type === 33) {
      if (len < 7) return null;
      h.bytes(rdata, rdata + 6);
      if (h.name(rdata + 6) !== rdata + len) return null;
    } else if (type === 5) {
      if (h.name(rdata) !== rdata + len) return null;
    } else if ((type === 1 && len === 4) || (type === 28 && len === 16) || type === 41) h.bytes(rdata, rdata + len);
    else return null;
    h.bytes(next + 8, next + 10); // the data's length
    sum1 = (sum1 + h.h1) >>> 0;
    sum2 = (sum2 + h.h2) >>> 0;
    xor = (xor ^ h.h1) >>> 0;
    pos = rdata + len;
  }
  if (pos !== bytes.length) return null;
  return `${String(bytes.readUInt16BE(2))} ${counts.join(' ')} ${String(h.q1)} ${String(h.q2)} ${String(sum1)} ${String(sum2)} ${String(xor)}`;
}

/** Two 32-bit FNV-1a style hashes (different primes and seeds) over a record's bytes; the question's folded in order. */
class RecordHash {
  h1 = 0;
  h2 = 0;
  q1 = 0x811c9dc5;
  q2 = 0x6a09e667;
  readonly #b: Buffer;
  constructor(bytes: Buffer) {
    this.#b = bytes;
  }
  start(section: number): void {
    this.h1 = Math.imul(0x811c9dc5 ^ section, 0x01000193) >>> 0;
    this.h2 = Math.imul(0x6a09e667 ^ section, 0x5bd1e995) >>> 0;
  }
  byte(v: number): void {
    this.h1 = Math.imul(this.h1 ^ v, 0x01000193);
    const h2 = Math.imul(this.h2 ^ v, 0x5bd1e995);
    this.h2 = h2 ^ (h2 >>> 15);
  }
  bytes(from: number, to: number): void {
    // The hot loop of a pass at rest: locals, not fields.
    const b = this.#b;
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = from; i < to; i++) {
      const v = b[i] ?? 0;
      h1 = Math.imul(h1 ^ v, 0x01000193);
      h2 = Math.imul(h2 ^ v, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    this.h1 = h1;
    this.h2 = h2;
  }
  /** Folds the hash into the question's, in order. */
  add(): void {
    this.q1 = Math.imul(this.q1 ^ this.h1, 0x01000193) >>> 0;
    this.q2 = Math.imul(this.q2 ^ this.h2, 0x5bd1e995) >>> 0;
  }
  /** Hashes the name at `start`, each label with its length (compression pointers followed); where the record goes on, or -1. */
  name(start: number): number {
    const b = this.#b;
    let pos = start;
    let next = -1;
    for (let jumps = 0; jumps < 128; jumps++) {
      if (pos >= b.length) return -1;
      const len = b[pos] ?? 0;
      if (len === 0) {
        this.byte(0);
        return next === -1 ? pos + 1 : next;
      }
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= b.length) return -1;
        if (next === -1) next = pos + 2;
        pos = ((len & 0x3f) << 8) | (b[pos + 1] ?? 0);
        continue;
      }
      if ((len & 0xc0) !== 0 || pos + 1 + len > b.length) return -1;
      this.bytes(pos, pos + 1 + len);
      pos += 1 + len;
    }
    return -1; // a compression loop
  }
}

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
    authorities: p.authorities ?? [],
    authoritative: p.flag_aa,
  };
}
