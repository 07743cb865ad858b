import { describe, expect, it } from 'vitest';
import type { Reply } from './message.ts';
import { indexAddresses, type Address } from './records.ts';
import { TargetCache, type Addresses, type Wanted } from './target-cache.ts';

const SRV = '_http._tcp.web';
const addr = (address: string, ttl = 5): Address[] => [{ address, ttl }];

/** What an answer wants: its targets and its additional section, both from the answer numbered `from`. */
const wanted = (targets: readonly string[], from: number, additionals: Reply['additionals'] = []): Wanted => ({
  targets,
  targetsFrom: from,
  glue: indexAddresses(additionals),
  glueFrom: from,
});

/** What a resolve does with the cache: asks what it misses (if anything), then takes what came. */
async function addresses(
  cache: TargetCache,
  w: Wanted,
  lookUp: (missing: readonly string[]) => Promise<Map<string, Address[]>>,
): Promise<Addresses> {
  const missing = cache.missing(SRV, w);
  return cache.addresses(SRV, w, missing.length === 0 ? new Map() : await lookUp(missing));
}

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
    const w = wanted(['a', 'b'], 1, [{ type: 'A', name: 'b', ttl: 5, data: '10.0.0.9' }]);
    const first = await addresses(cache, w, lookUp);
    expect(asked).toEqual([['a']]); // b came in the additional section
    expect(first.map.get('b')).toEqual(addr('10.0.0.9'));
    const a = first.map.get('a');
    now = 4_000;
    expect(await addresses(cache, w, lookUp)).toEqual({ map: first.map, version: first.version });
    now = 5_000;
    const again = await addresses(cache, w, lookUp);
    expect(asked).toEqual([['a'], ['a']]);
    // The same addresses keep the same array, in the same map: nothing changed.
    expect(again).toEqual({ map: first.map, version: first.version });
    expect(again.map.get('a')).toBe(a);
    // Refreshed: a full TTL from now, whatever the spread said the first time.
    now = 9_999;
    await addresses(cache, w, lookUp);
    expect(asked).toHaveLength(2);
    // A new address for a: the map says so.
    now = 10_000;
    const moved = await addresses(cache, w, () => Promise.resolve(new Map([['a', addr('10.0.0.7')]])));
    expect(moved.version).not.toBe(first.version);
    expect(moved.map.get('a')).toEqual(addr('10.0.0.7'));
  });

  it('keeps the version of a map made again that says the same (another answer, the same addresses)', async () => {
    const cache = new TargetCache(
      () => 0,
      () => 0.5,
    );
    const b = (data: string): Reply['additionals'] => [{ type: 'A', name: 'b', ttl: 5, data }];
    const lookUp = (missing: readonly string[]): Promise<Map<string, Address[]>> =>
      Promise.resolve(new Map(missing.map((t) => [t, addr('10.0.0.1')])));
    const first = await addresses(cache, wanted(['a', 'b'], 1, b('10.0.0.9')), lookUp);
    const again = await addresses(cache, wanted(['a', 'b'], 2, b('10.0.0.9')), lookUp);
    expect(again.version).toBe(first.version);
    const other = await addresses(cache, wanted(['a', 'b'], 3, b('10.0.0.8')), lookUp);
    expect(other.version).not.toBe(first.version);
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
    await addresses(cache, wanted(['a'], 1), lookUp);
    now = 2_499;
    await addresses(cache, wanted(['a'], 2), lookUp); // another answer: read again, a still cached
    expect(asked).toEqual([['a']]);
    now = 2_500;
    answer = false;
    const w = wanted(['a'], 3);
    await addresses(cache, w, lookUp);
    await addresses(cache, w, lookUp);
    expect(asked).toEqual([['a'], ['a'], ['a']]);
  });
});
