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
/** A reply already decoded, with its bytes and its signature: a reply that says the same needs no decoding. */
export type KnownReply = Readonly<{ raw: Buffer; reply: Reply; signature?: string | null }>;

/**
 * decodeReply, skipped when `bytes` are those of `known` but for the ID, which must be
 * `id`: the same answer to the same question, already checked. A pass at rest gets the
 * same 60 KB answer every interval; decoding it each time was most of the pass.
 */
export function decodeKnown(bytes: Buffer, q: Question, id: number, known: KnownReply | undefined): Reply | Rejection {
  if (known !== undefined && bytes.length >= 2 && bytes.readUInt16BE(0) === id) {
    if (bytes.length === known.raw.length && bytes.compare(known.raw, 2, known.raw.length, 2) === 0) return known.reply;
    // Servers rotate the records of an answer: the same records in another order say the same.
    if (known.signature !== undefined && known.signature !== null && replySignature(bytes) === known.signature) return known.reply;
  }
  return decodeReply(bytes, q, id);
}

/**
 * What a reply says, whatever the order of its records: its flags, its question, and each
 * A, AAAA, SRV, CNAME and OPT record with every name read out in full (so no compression
 * pointer can make two different replies look alike), sorted. null for a reply holding
 * another record type, or one this reader cannot read: it is then decoded in full.
 */
export function replySignature(bytes: Buffer): string | null {
  try {
    const counts = [4, 6, 8, 10].map((o) => bytes.readUInt16BE(o));
    let pos = 12;
    const parts: string[] = [];
    for (let i = 0; i < (counts[0] ?? 0); i++) {
      const [name, next] = readName(bytes, pos);
      parts.push(`q ${name} ${String(bytes.readUInt16BE(next))} ${String(bytes.readUInt16BE(next + 2))}`);
      pos = next + 4;
    }
    const records: string[] = [];
    const total = (counts[1] ?? 0) + (counts[2] ?? 0) + (counts[3] ?? 0);
    for (let i = 0; i < total; i++) {
      const [owner, next] = readName(bytes, pos);
      const type = bytes.readUInt16BE(next);
      const head = `${owner} ${String(type)} ${String(bytes.readUInt16BE(next + 2))} ${String(bytes.readUInt32BE(next + 4))}`;
      const len = bytes.readUInt16BE(next + 8);
      const rdata = next + 10;
      if (rdata + len > bytes.length) return null;
      if (type === 33) {
        const srv = `${String(bytes.readUInt16BE(rdata))} ${String(bytes.readUInt16BE(rdata + 2))} ${String(bytes.readUInt16BE(rdata + 4))}`;
        records.push(`${head} ${srv} ${readName(bytes, rdata + 6)[0]}`);
      } else if (type === 1 && len === 4) records.push(`${head} ${String(bytes.readUInt32BE(rdata))}`);
      else if (type === 28 || type === 41) records.push(`${head} ${bytes.toString('hex', rdata, rdata + len)}`);
      else if (type === 5) records.push(`${head} ${readName(bytes, rdata)[0]}`);
      else return null;
      pos = rdata + len;
    }
    if (pos !== bytes.length) return null;
    return [String(bytes.readUInt16BE(2)), ...parts, ...records.sort()].join('\n');
  } catch {
    return null; // a read past the end: not a reply this reader can vouch for
  }
}

/** A name at `start`, compression pointers followed, each label's bytes as latin1 (one character a byte); and where the record goes on. */
function readName(bytes: Buffer, start: number): [string, number] {
  const labels: string[] = [];
  let pos = start;
  let next = -1;
  for (let jumps = 0; jumps < 64; jumps++) {
    const len = bytes.readUInt8(pos);
    if (len === 0) return [labels.join('.'), next === -1 ? pos + 1 : next];
    if ((len & 0xc0) === 0xc0) {
      if (next === -1) next = pos + 2;
      pos = bytes.readUInt16BE(pos) & 0x3fff;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new RangeError('unknown label type');
    // Its length first: a label holding a dot cannot pass for two labels.
    labels.push(`${String(len)}${bytes.toString('latin1', pos + 1, pos + 1 + len)}`);
    pos += 1 + len;
  }
  throw new RangeError('compression loop');
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
