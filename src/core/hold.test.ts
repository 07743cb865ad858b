import { describe, expect, it } from 'vitest';
import { applyHold, initialHold, type DnsOutcome, type HoldState } from './hold.ts';
import type { Endpoint } from './types.ts';

const e: Endpoint = { target: 't', address: '10.0.0.1', port: 80, weight: 1, priority: 0, ttl: 5 };
const timers = { holdMs: 600_000, holdNxMs: 30_000 };
const ok: DnsOutcome = { status: 'ok', endpoints: [e] };
const timeout: DnsOutcome = { status: 'error', kind: 'timeout', message: 'no answer' };
const nx: DnsOutcome = { status: 'nxdomain' };

function run(steps: [number, DnsOutcome][], start: HoldState = initialHold) {
  let state = start;
  return steps.map(([t, o]) => {
    const r = applyHold(state, o, t, timers);
    state = r.state;
    return r;
  });
}

describe('applyHold', () => {
  it('keeps the last good answer through DNS failures for --hold, logging the start once', () => {
    const r = run([
      [0, ok],
      [1_000, timeout],
      [2_000, timeout],
      [599_999, timeout],
    ]);
    expect(r.map((x) => x.endpoints?.length)).toEqual([1, 1, 1, 1]);
    expect(r.map((x) => x.event?.event ?? null)).toEqual([null, 'hold-started', null, null]);
  });

  it('drops the endpoints once --hold has passed since the last good answer, saying so once', () => {
    const r = run([
      [0, ok],
      [1_000, timeout],
      [600_000, timeout],
      [601_000, timeout],
    ]);
    expect(r.map((x) => x.endpoints?.length)).toEqual([1, 1, 0, 0]);
    expect(r.map((x) => x.event?.event ?? null)).toEqual([null, 'hold-started', 'hold-expired', null]);
  });

  it('lets the servers leave --hold-nx after the first NXDOMAIN, not after the last good answer', () => {
    const r = run([
      [0, ok],
      [10_000, nx],
      [39_999, nx],
      [40_000, nx],
    ]);
    expect(r.map((x) => x.endpoints?.length)).toEqual([1, 1, 1, 0]);
    expect(r.map((x) => x.event?.event ?? null)).toEqual([null, 'hold-started', null, 'hold-expired']);
  });

  it('does not count an outage before the NXDOMAIN: 40 s of SERVFAIL, then NXDOMAIN, keeps the servers for --hold-nx', () => {
    const servfail: DnsOutcome = { status: 'error', kind: 'servfail', message: 'SERVFAIL' };
    const r = run([
      [0, ok],
      [1_000, servfail],
      [40_000, servfail],
      [41_000, nx],
      [70_999, nx],
      [71_000, nx],
    ]);
    expect(r.map((x) => x.endpoints?.length)).toEqual([1, 1, 1, 1, 1, 0]);
  });

  it('keeps counting --hold-nx through failures between NXDOMAIN answers, and --hold still bounds it all', () => {
    const r = run([
      [0, ok],
      [10_000, nx],
      [20_000, timeout],
      [39_999, nx],
      [40_000, timeout],
    ]);
    expect(r.map((x) => x.endpoints?.length)).toEqual([1, 1, 1, 1, 0]);
    const long = run([
      [0, ok],
      [1_000, timeout],
      [599_000, nx],
      [600_000, nx],
    ]);
    expect(long.map((x) => x.endpoints?.length)).toEqual([1, 1, 1, 0]);
  });

  it('starts afresh after a good answer: an old NXDOMAIN does not count', () => {
    const r = run([
      [0, ok],
      [10_000, nx],
      [20_000, ok],
      [30_000, nx],
      [59_999, nx],
    ]);
    expect(r.map((x) => x.endpoints?.length)).toEqual([1, 1, 1, 1, 1]);
  });

  it('reports recovery with how long DNS failed', () => {
    const r = run([
      [0, ok],
      [1_000, timeout],
      [5_000, ok],
    ]);
    expect(r[2]?.event).toEqual({ event: 'recovered', failedForMs: 4_000, answerAgeMs: 5_000 });
    expect(r[2]?.state.failing).toBeNull();
  });

  it('leaves HAProxy alone (null) when DNS fails before any good answer', () => {
    const r = run([
      [0, timeout],
      [1_000, timeout],
    ]);
    expect(r.map((x) => x.endpoints)).toEqual([null, null]);
  });

  it('counts --hold-nx from the first NXDOMAIN when there never was an answer', () => {
    const r = run([
      [0, nx],
      [29_000, nx],
      [30_000, nx],
    ]);
    expect(r.map((x) => x.endpoints)).toEqual([null, null, []]);
  });
});
