import { describe, expect, it } from 'vitest';
import { ServerChoice } from './servers.ts';

const a = { host: '10.0.0.1', port: 53 };
const b = { host: '10.0.0.2', port: 53 };

describe('ServerChoice: which nameserver, how often, how long', () => {
  it('asks the one that answered last first, attempts tries per server', () => {
    const c = new ServerChoice({ nameservers: [a, b], timeoutMs: 5_000, attempts: 2, retryMaxMs: 1_000 });
    expect(c.plan(false)).toMatchObject({ nameservers: [a, b], tries: 4, deadlineMs: 5_000, tcpFirst: false });
    c.answered(b);
    expect(c.plan(true)).toMatchObject({ nameservers: [b, a], tcpFirst: true });
    expect(c.preferred).toBe(b);
  });

  it('sends a growing record (SRV) never answered over UDP and TCP at once, its retries over TCP', () => {
    const c = new ServerChoice({ nameservers: [a], timeoutMs: 5_000, attempts: 2 });
    expect(c.plan(false, true, false)).toMatchObject({ firstOverBoth: true, retryOverTcp: true });
    expect(c.plan(false, true, true)).toMatchObject({ firstOverBoth: false, retryOverTcp: true }); // known: UDP first, as it fit
    expect(c.plan(true, true, false)).toMatchObject({ firstOverBoth: false, tcpFirst: true });
    expect(c.plan(false, false, false)).toMatchObject({ firstOverBoth: false, retryOverTcp: false }); // an address record
  });

  it('retries at 1 s before any answer, as the round trips say after, between 100 ms and the interval, doubling each round', () => {
    const c = new ServerChoice({ nameservers: [a, b], timeoutMs: 5_000, attempts: 3, retryMaxMs: 2_000 });
    expect(c.plan(false).retryAfterMs(a, 0)).toBe(1_000);
    for (let i = 0; i < 10; i++) c.sample(a, 1);
    const plan = c.plan(false);
    expect(plan.retryAfterMs(a, 0)).toBe(100); // the floor
    for (let i = 0; i < 10; i++) c.sample(b, 300);
    expect(plan.retryAfterMs(b, 0)).toBeGreaterThan(300);
    expect(plan.retryAfterMs(b, 2)).toBeCloseTo(2 * plan.retryAfterMs(b, 0), 0); // the second round over two servers
    expect(plan.retryAfterMs(b, 6)).toBe(2_000); // the fourth round: capped at the interval
  });

  it('asks a zone serial of the preferred nameserver alone, retried at its retry time within the given deadline', () => {
    const c = new ServerChoice({ nameservers: [a, b], timeoutMs: 5_000, attempts: 2 });
    c.answered(b);
    for (let i = 0; i < 10; i++) c.sample(b, 1);
    const plan = c.serialPlan(500);
    expect(plan).toMatchObject({ nameservers: [b], tries: 3, deadlineMs: 500, tcpFirst: false });
    expect(plan?.retryAfterMs(b, 0)).toBe(100);
    expect(new ServerChoice({ nameservers: [], timeoutMs: 5_000, attempts: 2 }).serialPlan(500)).toBeNull();
  });

  it('stretches the deadline for a server known to be slow, never past --hold', () => {
    const c = new ServerChoice({ nameservers: [a], timeoutMs: 5_000, attempts: 2, holdMs: 8_000 });
    for (let i = 0; i < 10; i++) c.sample(a, 3_000);
    expect(c.deadlineMs()).toBeGreaterThan(5_000);
    for (let i = 0; i < 10; i++) c.sample(a, 20_000);
    expect(c.deadlineMs()).toBe(8_000);
  });
});
