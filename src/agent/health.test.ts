import { describe, expect, it } from 'vitest';
import type { AgentStatus } from './agent.ts';
import type { DnsView } from './dns-lane.ts';
import { liveness, livenessBoundMs, readiness } from './health.ts';

const timing = { intervalMs: 1_000, socketTimeoutMs: 5_000, dnsTimeoutMs: null, holdMs: 600_000 };
const okDns: DnsView = { backend: 'be_app', status: 'ok', endpoints: 3, answerAgeMs: 1_000, failing: null, refused: 0 };
const socket = { socket: '/run/admin.sock', reachable: true, detail: null, pid: 42, settled: new Set(['be_app']) };
const status = (over: Partial<AgentStatus> = {}): AgentStatus => ({
  lastRunAt: 0,
  backends: [okDns],
  sockets: [socket],
  lanes: new Map([
    ['dns be_app', 100_000],
    ['socket /run/admin.sock', 100_000],
  ]),
  ...over,
});

describe('liveness', () => {
  it('bounds a lane run by the interval and the timeouts, at least 60 s', () => {
    expect(livenessBoundMs(timing)).toBe(63_000);
    expect(livenessBoundMs({ ...timing, socketTimeoutMs: 100, dnsTimeoutMs: 100, intervalMs: 100 })).toBe(60_000);
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
  it('is ready once every socket has had every backend applied, with a line per backend', () => {
    expect(readiness(status(), timing)).toEqual({ ok: true, detail: 'ready\nbackend be_app: DNS ok, 3 in force' });
  });

  it('is not ready before a socket has had a backend applied, naming both and why', () => {
    const none: DnsView = { ...okDns, status: 'failing', endpoints: null, answerAgeMs: null, failing: { forMs: 12_000, kind: 'timeout' } };
    const r = readiness(status({ backends: [none], sockets: [{ ...socket, settled: new Set() }] }), timing);
    expect(r.ok).toBe(false);
    expect(r.detail.split('\n')).toEqual([
      'not ready: socket /run/admin.sock: HAProxy (pid 42) has not had backend be_app (no DNS answer yet: timeout for 12s) applied yet',
      'backend be_app: DNS failing (timeout for 12s); no answer to hold; HAProxy left as it is',
    ]);
  });

  it('stays ready through anything DNS does once applied: an outage past --hold, NXDOMAIN, refused endpoints', () => {
    const expired: DnsView = {
      ...okDns,
      status: 'failing',
      endpoints: 0,
      answerAgeMs: 601_000,
      failing: { forMs: 601_000, kind: 'timeout' },
    };
    const nx: DnsView = {
      ...okDns,
      backend: 'be_nx',
      status: 'nxdomain',
      endpoints: null,
      answerAgeMs: null,
      failing: { forMs: 40_000, kind: 'nxdomain' },
    };
    const refused: DnsView = { ...okDns, backend: 'be_r', status: 'refused', endpoints: null, answerAgeMs: null, refused: 3 };
    const r = readiness(
      status({ backends: [expired, nx, refused], sockets: [{ ...socket, settled: new Set(['be_app', 'be_nx', 'be_r']) }] }),
      timing,
    );
    expect(r).toEqual({
      ok: true,
      detail: [
        'ready',
        'backend be_app: DNS failing (timeout for 601s); answer 601s old, past --hold; 0 in force',
        'backend be_nx: DNS says NXDOMAIN (for 40s); HAProxy left as it is',
        'backend be_r: every endpoint DNS gave (3) refused by the address policy; HAProxy left as it is',
      ].join('\n'),
    });
  });

  it('is not ready while a socket does not answer, or before any run', () => {
    const down = { ...socket, reachable: false, detail: 'HAProxy socket /run/admin.sock: connection refused' };
    expect(readiness(status({ sockets: [down] }), timing).detail.split('\n')[0]).toBe(
      'not ready: HAProxy socket /run/admin.sock: connection refused',
    );
    expect(readiness(status({ lastRunAt: null, sockets: [{ ...socket, reachable: null }] }), timing).detail.split('\n')[0]).toBe(
      'not ready: no lane has run yet; socket /run/admin.sock: not read yet',
    );
  });
});
