import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeKnown, decodeReply, EDNS_UDP_SIZE, encodeQuery, replySignature } from './message.ts';

const q = { name: '_http._tcp.web.default.svc.cluster.local', type: 'SRV' as const };

const reply = (over: Partial<dnsPacket.Packet> = {}): Buffer =>
  dnsPacket.encode({
    type: 'response',
    id: 4242,
    flags: dnsPacket.AUTHORITATIVE_ANSWER,
    questions: [{ name: q.name, type: 'SRV', class: 'IN' }],
    answers: [
      {
        type: 'SRV',
        name: q.name,
        ttl: 5,
        data: { priority: 0, weight: 33, port: 8080, target: '10-1-43-243.web.default.svc.cluster.local' },
      },
    ],
    ...over,
  });

describe('encodeQuery', () => {
  it('asks with recursion desired and advertises 1232 bytes with EDNS0', () => {
    const p = dnsPacket.decode(encodeQuery(q, 7));
    expect(p.id).toBe(7);
    expect(p.flag_rd).toBe(true);
    expect(p.additionals?.find((r) => r.type === 'OPT')).toMatchObject({ udpPayloadSize: EDNS_UDP_SIZE });
  });
});

describe('decodeReply', () => {
  it('accepts the answer to the question asked, whatever the case of the name', () => {
    const r = decodeReply(reply({ questions: [{ name: q.name.toUpperCase(), type: 'SRV', class: 'IN' }] }), q, 4242);
    expect(typeof r === 'string' ? r : r.answers).toHaveLength(1);
  });

  it('reports the TC bit', () => {
    const r = decodeReply(reply({ flags: dnsPacket.TRUNCATED_RESPONSE, answers: [] }), q, 4242);
    expect(typeof r === 'string' ? r : r.truncated).toBe(true);
  });

  it.each([
    ['wrong-id', reply({ id: 4243 })],
    ['wrong-question', reply({ questions: [{ name: 'other.cluster.local', type: 'SRV', class: 'IN' }] })],
    ['wrong-question', reply({ questions: [{ name: q.name, type: 'A', class: 'IN' }] })],
    ['not-a-response', dnsPacket.encode({ type: 'query', id: 4242, questions: [{ name: q.name, type: 'SRV' }] })],
    ['malformed', Buffer.from('garbage bytes')],
    ['malformed', reply().subarray(0, 40)],
  ])('drops a reply as %s', (why, bytes) => {
    expect(decodeReply(bytes, q, 4242)).toBe(why);
  });

  it('never throws, on random bytes or on valid replies cut or flipped anywhere', () => {
    const valid = reply();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        expect(() => decodeReply(Buffer.from(bytes), q, 4242)).not.toThrow();
      }),
      { numRuns: 2_000 },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: valid.length }),
        fc.integer({ min: 0, max: valid.length - 1 }),
        fc.integer({ min: 0, max: 255 }),
        (cut, at, byte) => {
          const mutated = Buffer.from(valid.subarray(0, cut));
          if (at < mutated.length) mutated[at] = byte;
          expect(() => decodeReply(mutated, q, 4242)).not.toThrow();
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('replySignature', () => {
  const srv = fc.record({
    target: fc.constantFrom('a.web.svc', 'b.web.svc', 'c.web.svc', 'B.web.svc'),
    port: fc.integer({ min: 1, max: 65_535 }),
    weight: fc.integer({ min: 0, max: 100 }),
    priority: fc.integer({ min: 0, max: 3 }),
  });
  const answer = fc.uniqueArray(srv, { minLength: 1, maxLength: 12, selector: (r) => `${r.target} ${String(r.port)}` });
  type Rec = { target: string; port: number; weight: number; priority: number };
  /** An answer with its records in `order`, the targets' A records in `glueOrder` (each target keeps its address). */
  const encode = (
    records: readonly Rec[],
    id = 1,
    order: readonly Rec[] = records,
    glueOrder: readonly Rec[] = records,
    address = (i: number): string => `10.0.0.${String(i + 1)}`,
  ): Buffer =>
    dnsPacket.encode({
      type: 'response',
      id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER,
      questions: [{ type: 'SRV', name: '_http._tcp.web.svc', class: 'IN' }],
      answers: order.map((data) => ({ type: 'SRV' as const, name: '_http._tcp.web.svc', ttl: 5, data })),
      additionals: glueOrder.map((r) => ({ type: 'A' as const, name: r.target, ttl: 5, data: address(records.indexOf(r)) })),
    });

  it('is the same for the same records in any order, and the ID does not count', () => {
    fc.assert(
      fc.property(answer, fc.integer({ min: 0, max: 1000 }), (records, seed) => {
        const shuffled = [...records].sort((a, b) => ((a.port * 31 + seed) % 97) - ((b.port * 31 + seed) % 97));
        const again = encode(records, 7, shuffled, [...shuffled].reverse());
        expect(replySignature(again)).not.toBeNull();
        expect(replySignature(again)).toBe(replySignature(encode(records)));
      }),
    );
  });

  it('differs when any record says something else', () => {
    fc.assert(
      fc.property(answer, fc.nat(), (records, k) => {
        const i = k % records.length;
        const changed = records.map((r, j) => (j === i ? { ...r, port: (r.port % 65_535) + 1 } : r));
        expect(replySignature(encode(changed))).not.toBe(replySignature(encode(records)));
        const moved = encode(records, 1, records, records, (j) => (j === i ? '10.9.9.9' : `10.0.0.${String(j + 1)}`));
        expect(replySignature(moved)).not.toBe(replySignature(encode(records)));
      }),
    );
  });

  it('never throws, on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(() => replySignature(Buffer.from(bytes))).not.toThrow();
      }),
    );
  });

  it('lets decodeKnown hand back the reply it knows for the same records in another order', () => {
    const records = [
      { target: 'a.web.svc', port: 80, weight: 1, priority: 0 },
      { target: 'b.web.svc', port: 80, weight: 1, priority: 0 },
    ];
    const first = encode(records, 9);
    const q = { name: '_http._tcp.web.svc', type: 'SRV' as const };
    const reply = decodeReply(first, q, 9);
    if (typeof reply === 'string') throw new Error(reply);
    const known = { raw: first, reply, signature: replySignature(first) };
    const rotated = decodeKnown(encode(records, 11, [...records].reverse()), q, 11, known);
    expect(rotated).toMatchObject({ same: true });
    expect(typeof rotated === 'string' ? rotated : rotated.reply).toBe(reply);
    const other = decodeKnown(encode(records.slice(1), 11), q, 11, known);
    expect(other).toMatchObject({ same: false });
    expect(typeof other === 'string' ? other : other.reply).not.toBe(reply);
    expect(decodeKnown(encode(records, 12, [...records].reverse()), q, 11, known)).toBe('wrong-id');
  });
});
