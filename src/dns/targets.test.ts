import { describe, expect, it } from 'vitest';
import type { Reply } from './message.ts';
import type { Address } from './records.ts';
import { TargetCache } from './targets.ts';

const SRV = '_http._tcp.web';
const reply = (additionals: Reply['additionals'] = []): Reply => ({ rcode: 'NOERROR', truncated: false, answers: [], additionals });
const addr = (address: string, ttl = 5): Address[] => [{ address, ttl }];

describe('TargetCache', () => {
  it('asks only for what it lacks, and hands back the same map while every cached target is fresh', async () => {
    let now = 0;
    const cache = new TargetCache(
      () => now,
      () => 0.999, // the first expiry of a target as late as the spread allows: its full TTL
    );
    const asked: string[][] = [];
    const lookUp = (missing: readonly string[]): Promise<Map<string, Address[]>> => {
      asked.push([...missing]);
      return Promise.resolve(new Map(missing.map((t) => [t, addr(t === 'a' ? '10.0.0.1' : '10.0.0.2')])));
    };
    const targets = ['a', 'b'];
    const r = reply([{ type: 'A', name: 'b', ttl: 5, data: '10.0.0.9' }]);
    const first = await cache.addresses(SRV, targets, r, lookUp);
    expect(asked).toEqual([['a']]); // b came in the additional section
    expect(first.changed).toBe(true);
    expect(first.map.get('b')).toEqual(addr('10.0.0.9'));
    const a = first.map.get('a');
    now = 4_000;
    expect(await cache.addresses(SRV, targets, r, lookUp)).toEqual({ map: first.map, changed: false });
    now = 5_000;
    const again = await cache.addresses(SRV, targets, r, lookUp);
    expect(asked).toEqual([['a'], ['a']]);
    // The same addresses keep the same array, in the same map: nothing changed.
    expect(again).toEqual({ map: first.map, changed: false });
    expect(again.map.get('a')).toBe(a);
    // Refreshed: a full TTL from now, whatever the spread said the first time.
    now = 9_999;
    await cache.addresses(SRV, targets, r, lookUp);
    expect(asked).toHaveLength(2);
    // A new address for a: the map says so.
    now = 10_000;
    const moved = await cache.addresses(SRV, targets, r, () => Promise.resolve(new Map([['a', addr('10.0.0.7')]])));
    expect(moved.changed).toBe(true);
    expect(moved.map.get('a')).toEqual(addr('10.0.0.7'));
  });

  it('spreads the first expiry over the last half of the TTL, and asks again for a target that got nothing', async () => {
    let now = 0;
    const cache = new TargetCache(
      () => now,
      () => 0,
    );
    let answer = true;
    const asked: string[][] = [];
    const lookUp = (missing: readonly string[]): Promise<Map<string, Address[]>> => {
      asked.push([...missing]);
      return Promise.resolve(new Map(answer ? missing.map((t) => [t, addr('10.0.0.1')]) : []));
    };
    await cache.addresses(SRV, ['a'], reply(), lookUp);
    now = 2_499;
    await cache.addresses(SRV, ['a'], reply(), lookUp); // a new reply object: read again, a still cached
    expect(asked).toEqual([['a']]);
    now = 2_500;
    answer = false;
    const targets = ['a'];
    const r = reply();
    await cache.addresses(SRV, targets, r, lookUp);
    await cache.addresses(SRV, targets, r, lookUp);
    expect(asked).toEqual([['a'], ['a'], ['a']]);
  });
});
