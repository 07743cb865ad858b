import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PassReport } from './agent.ts';
import { nextWaitMs, runLoop, sleep } from './loop.ts';

const report = (over: Partial<PassReport> = {}): PassReport => ({ ok: true, problems: [], commands: 0, ttlSeconds: 30, ...over });

describe('nextWaitMs', () => {
  const o = { intervalMs: 1_000, respectTtl: false, random: () => 0 };

  it('waits one interval, plus up to 10% jitter', () => {
    expect(nextWaitMs(o, report())).toBe(1_000);
    expect(nextWaitMs({ ...o, random: () => 0.999 }, report())).toBe(1_100);
  });

  it('ignores a short TTL unless asked to respect it', () => {
    expect(nextWaitMs(o, report({ ttlSeconds: 0.3 }))).toBe(1_000);
    expect(nextWaitMs({ ...o, respectTtl: true }, report({ ttlSeconds: 0.3 }))).toBe(300);
    expect(nextWaitMs({ ...o, respectTtl: true }, report({ ttlSeconds: 5 }))).toBe(1_000);
  });

  it('never spins on a TTL of 0', () => {
    expect(nextWaitMs({ ...o, respectTtl: true }, report({ ttlSeconds: 0 }))).toBe(250);
  });
});

describe('runLoop', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs a pass every interval until aborted, and never cuts a pass short', async () => {
    const stop = new AbortController();
    let passes = 0;
    const pass = vi.fn(async () => {
      passes++;
      await new Promise((r) => setTimeout(r, 50)); // a pass takes 50 ms
      return report();
    });
    const done = runLoop({
      pass,
      intervalMs: 1_000,
      respectTtl: false,
      signal: stop.signal,
      log: pino({ level: 'silent' }),
      random: () => 0,
      sleep,
    });
    await vi.advanceTimersByTimeAsync(50);
    expect(passes).toBe(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(passes).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(passes).toBe(2);
    stop.abort(); // during the second pass: it finishes, then the loop ends
    await vi.advanceTimersByTimeAsync(50);
    await done;
    expect(pass).toHaveBeenCalledTimes(2);
  });
});
