import { describe, expect, it } from 'vitest';
import { capEndpoints, chooseAddresses, indexInForce, LOOKUP_SPARE, targetsToAsk, type SrvChoice, type TargetAddress } from './caps.ts';
import type { Endpoint } from './types.ts';

/** Pod k: its own target name (pod-1 sorts before pod-10) and address 10.0.0.k, one record on port 8080. */
const pod = (k: number): SrvChoice => ({ target: `pod-${String(k)}.web`, port: 8080, weight: 10, priority: 0, ttl: 5 });
const byPreference = (records: SrvChoice[]): SrvChoice[] => [...records].sort((x, y) => (x.target < y.target ? -1 : 1));
const addressOf = (target: string): TargetAddress[] => [{ address: `10.0.0.${target.slice(4, target.indexOf('.'))}`, ttl: 5 }];
const served = (endpoints: readonly Endpoint[]): string[] => endpoints.map((e) => e.target).sort();
const inForce = (...ks: number[]): Endpoint[] =>
  ks.map((k) => ({ target: pod(k).target, address: `10.0.0.${String(k)}`, port: 8080, weight: 10, priority: 0, ttl: 5 }));

describe('capEndpoints', () => {
  it('keeps the endpoints in force at the cap: a newcomer that sorts first is dropped, not a live pod', () => {
    const records = byPreference([pod(10), pod(20), pod(30), pod(1)]);
    const capped = capEndpoints(records, addressOf, indexInForce(inForce(10, 20, 30)), 3);
    expect(served(capped.endpoints)).toEqual(['pod-10.web', 'pod-20.web', 'pod-30.web']);
    expect(capped.dropped).toBe(1);
  });

  it('takes the preference order alone when nothing is in force (a first answer)', () => {
    const records = byPreference([pod(10), pod(20), pod(30), pod(1)]);
    const capped = capEndpoints(records, addressOf, null, 3);
    expect(served(capped.endpoints)).toEqual(['pod-1.web', 'pod-10.web', 'pod-20.web']);
    expect(capped.dropped).toBe(1);
  });

  it('gives the room an endpoint in force left to the first newcomer in preference order', () => {
    // pod 30 left DNS; pods 1 and 40 are new.
    const records = byPreference([pod(10), pod(20), pod(1), pod(40)]);
    const capped = capEndpoints(records, addressOf, indexInForce(inForce(10, 20, 30)), 3);
    expect(served(capped.endpoints)).toEqual(['pod-1.web', 'pod-10.web', 'pod-20.web']);
    expect(capped.dropped).toBe(1);
  });

  it('keeps no more endpoints in force than the cap, in preference order (a lower cap after a restart)', () => {
    const records = byPreference([pod(10), pod(20), pod(30)]);
    const capped = capEndpoints(records, addressOf, indexInForce(inForce(10, 20, 30)), 2);
    expect(served(capped.endpoints)).toEqual(['pod-10.web', 'pod-20.web']);
    expect(capped.dropped).toBe(1);
  });

  it('makes one endpoint of an address:port that records of two targets name', () => {
    const twin: SrvChoice = { ...pod(10), target: 'alias-10.web' };
    const capped = capEndpoints([twin, pod(10)], (t) => addressOf(t === 'alias-10.web' ? 'pod-10.web' : t), null, 5);
    expect(capped.endpoints.map((e) => e.target)).toEqual(['alias-10.web']);
    expect(capped.dropped).toBe(0);
  });
});

describe('chooseAddresses', () => {
  const many = Array.from({ length: 70 }, (_, i) => ({ address: `10.1.0.${String(100 + i)}`, ttl: 5 }));

  it('keeps the addresses in force among a target bounded at 64, then the first in address order', () => {
    const late = '10.1.0.169'; // sorts last: the 65th to 70th are left out without it in force
    const chosen = chooseAddresses(many, 64, new Set([late]));
    expect(chosen).toHaveLength(64);
    expect(chosen.map((a) => a.address)).toContain(late);
    expect(chosen.map((a) => a.address)).not.toContain('10.1.0.163');
    expect(chooseAddresses(many, 64).map((a) => a.address)).not.toContain(late);
  });

  it('chooses the same addresses in whatever order they came', () => {
    const forward = chooseAddresses(many, 10, new Set(['10.1.0.150']));
    const backward = chooseAddresses([...many].reverse(), 10, new Set(['10.1.0.150']));
    expect(backward.map((a) => a.address).sort()).toEqual(forward.map((a) => a.address).sort());
  });
});

describe('targetsToAsk', () => {
  const records = byPreference(Array.from({ length: 100 }, (_, i) => pod(i + 1)));

  it('asks every target while the records are no more than the cap', () => {
    expect(targetsToAsk(records.slice(0, 3), null, 3)).toBeNull();
  });

  it('past the cap, asks the targets in force and as many newcomers as the room left, and a few more', () => {
    const asked = targetsToAsk(records, indexInForce(inForce(90, 91, 92)), 5);
    expect(asked).toContain('pod-90.web');
    expect(asked).toContain('pod-92.web');
    expect(asked?.size).toBe(3 + 2 + LOOKUP_SPARE);
  });
});
