import { describe, expect, it } from 'vitest';
import type { AgentStatus } from './agent.ts';
import { liveness, livenessBoundMs, readiness } from './health.ts';

const timing = { intervalMs: 1_000, socketTimeoutMs: 5_000, dnsTimeoutMs: null, holdMs: 600_000 };
const status = (over: Partial<AgentStatus> = {}): AgentStatus => ({
  lastRunAt: 0,
  backends: new Map([['be_app', { answerAgeMs: 1_000, syncedAgeMs: 500 }]]),
  lanes: new Map([
    ['dns be_app', 100_000],
    ['socket /run/admin.sock', 100_000],
  ]),
  ...over,
});

describe('liveness', () => {
  it('bounds a lane run by the interval and the timeouts, at least 60 s', () => {
    expect(livenessBoundMs(timing)).toBe(63_000);
    expect(livenessBoundMs({ ...timing, socketTimeoutMs: 100, intervalMs: 100 })).toBe(60_000);
    expect(livenessBoundMs({ ...timing, dnsTimeoutMs: 10_000 })).toBe(123_000);
  });

  it('fails when one lane has finished no run within the bound, naming it', () => {
    expect(liveness(status(), timing, 0, 160_000)).toEqual({ ok: true, detail: 'ok' });
    const stuck = status({
      lanes: new Map([
        ['dns be_app', 160_000],
        ['socket /run/admin.sock', 100_000],
      ]),
    });
    expect(liveness(stuck, timing, 0, 163_001)).toEqual({
      ok: false,
      detail: 'lane socket /run/admin.sock: no run finished for 63s (bound 63s)',
    });
  });

  it('counts from the start for a lane that never finished a run', () => {
    const never = status({ lanes: new Map([['socket /run/admin.sock', null]]) });
    expect(liveness(never, timing, 10_000, 70_000).ok).toBe(true);
    expect(liveness(never, timing, 10_000, 73_001).ok).toBe(false);
  });
});

describe('readiness', () => {
  it('is ready while HAProxy matched recently and the answer is within --hold', () => {
    expect(readiness(status(), timing)).toEqual({ ok: true, detail: 'ok' });
  });

  it('is not ready once the hold expired, while every server drains', () => {
    const expired = status({ backends: new Map([['be_app', { answerAgeMs: 601_000, syncedAgeMs: 500 }]]) });
    expect(readiness(expired, timing)).toEqual({ ok: false, detail: 'backend be_app: DNS answer 601s old, past --hold' });
  });
});
