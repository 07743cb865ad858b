import { describe, expect, it } from 'vitest';
import { haproxyWeights, normalizeEndpoints } from './desired.ts';
import type { Endpoint } from './types.ts';

const ep = (address: string, weight: number, extra: Partial<Endpoint> = {}): Endpoint => ({
  target: 't',
  address,
  port: 80,
  weight,
  priority: 0,
  ttl: 5,
  ...extra,
});

describe('haproxyWeights', () => {
  it('maps equal weights to 256 whatever their value, so scale events write no weight', () => {
    for (const w of [1, 33, 50, 100]) {
      expect([...haproxyWeights([ep('10.0.0.1', w), ep('10.0.0.2', w)]).values()]).toEqual([256, 256]);
    }
  });

  it('keeps ratios, never below 1', () => {
    expect([...haproxyWeights([ep('10.0.0.1', 1000), ep('10.0.0.2', 500), ep('10.0.0.3', 1)]).values()]).toEqual([256, 128, 1]);
  });

  it('gives weight 0 records the smallest weight, and all-zero records 256', () => {
    expect([...haproxyWeights([ep('10.0.0.1', 10), ep('10.0.0.2', 0)]).values()]).toEqual([256, 1]);
    expect([...haproxyWeights([ep('10.0.0.1', 0), ep('10.0.0.2', 0)]).values()]).toEqual([256, 256]);
  });
});

describe('normalizeEndpoints', () => {
  it('keeps one endpoint per address:port, the preferred priority winning', () => {
    const out = normalizeEndpoints([
      ep('10.0.0.1', 5, { priority: 20 }),
      ep('10.0.0.1', 5, { priority: 10 }),
      ep('10.0.0.1', 5, { port: 81 }),
    ]);
    expect(out.map((e) => [e.port, e.priority])).toEqual([
      [81, 0],
      [80, 10],
    ]);
  });

  it('sorts by priority, weight, then numeric address', () => {
    const out = normalizeEndpoints([ep('10.0.0.10', 1), ep('10.0.0.9', 1), ep('10.0.0.20', 9)]);
    expect(out.map((e) => e.address)).toEqual(['10.0.0.20', '10.0.0.9', '10.0.0.10']);
  });

  it('writes IPv6 addresses the way HAProxy prints them', () => {
    expect(normalizeEndpoints([ep('FD00:0:0:0:0:0:0:1', 1)])[0]?.address).toBe('fd00::1');
  });
});
