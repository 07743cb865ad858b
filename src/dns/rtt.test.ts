import { describe, expect, it } from 'vitest';
import { INITIAL_RTO_MS, RttTable } from './rtt.ts';

describe('RttTable (RFC 6298)', () => {
  it('waits 1 s before any sample, then SRTT + 4 RTTVAR', () => {
    const t = new RttTable();
    expect(t.rto('ns')).toBe(INITIAL_RTO_MS);
    t.sample('ns', 100);
    expect(t.srtt('ns')).toBe(100);
    expect(t.rto('ns')).toBe(100 + 4 * 50);
  });

  it('follows a server that slows down, and another that stays fast, each on its own', () => {
    const t = new RttTable();
    for (let i = 0; i < 20; i++) {
      t.sample('slow', 2_500);
      t.sample('fast', 2);
    }
    expect(t.rto('slow')).toBeGreaterThan(2_500);
    expect(t.rto('slow')).toBeLessThan(3_000);
    expect(t.rto('fast')).toBeLessThan(20); // the clock granularity, not 4 RTTVAR, once the variation is gone
    expect(t.srtt('other')).toBeNull();
  });

  it('smooths one outlier instead of jumping to it', () => {
    const t = new RttTable();
    for (let i = 0; i < 10; i++) t.sample('ns', 20);
    t.sample('ns', 1_000);
    expect(t.srtt('ns')).toBeCloseTo(20 + (1_000 - 20) / 8, 0);
  });
});
