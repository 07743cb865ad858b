import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeReply, EDNS_UDP_SIZE, encodeQuery } from './message.ts';

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
