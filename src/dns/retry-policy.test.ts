import { describe, expect, it } from 'vitest';
import { RetryPolicy } from './retry-policy.ts';

const a = { host: '10.0.0.1', port: 53 };
const b = { host: '10.0.0.2', port: 53 };

describe('RetryPolicy: which nameserver, how often, how long', () => {
  it('asks the one that answered last first, attempts tries per server', () => {
    const c = new RetryPolicy({ nameservers: [a, b], timeoutMs: 5_000, attempts: 2, retryMaxMs: 1_000 });
    expect(c.plan(false)).toMatchObject({ nameservers: [a, b], tries: 4, deadlineMs: 5_000, tcpFirst: false });
    c.answered(b);
    expect(c.plan(true)).toMatchObject({ nameservers: [b, a], tcpFirst: true });
    expect(c.preferred).toBe(b);
  });

  it('sends a growing record (SRV) never answered over UDP and TCP at once, its retries over TCP', () => {
    const c = new RetryPolicy({ nameservers: [a], timeoutMs: 5_000, attempts: 2 });
    expect(c.plan(false, true, false)).toMatchObject({ firstOverBoth: true, retryOverTcp: true });
    expect(c.plan(false, true, true)).toMatchObject({ firstOverBoth: false, retryOverTcp: true }); // known: UDP first, as it fit
    expect(c.plan(true, true, false)).toMatchObject({ firstOverBoth: false, tcpFirst: true });
    expect(c.plan(false, false, false)).toMatchObject({ firstOverBoth: false, retryOverTcp: false }); // an address record
  });

  it('retries at 1 s before any answer, as the round trips say after, between 100 ms and the interval, doubling each round', () => {
    const c = new RetryPolicy({ nameservers: [a, b], timeoutMs: 5_000, attempts: 3, retryMaxMs: 2_000 });
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
    const c = new RetryPolicy({ nameservers: [a, b], timeoutMs: 5_000, attempts: 2 });
    c.answered(b);
    for (let i = 0; i < 10; i++) c.sample(b, 1);
    const plan = c.serialPlan(500);
    expect(plan).toMatchObject({ nameservers: [b], tries: 3, deadlineMs: 500, tcpFirst: false });
    expect(plan?.retryAfterMs(b, 0)).toBe(100);
    expect(new RetryPolicy({ nameservers: [], timeoutMs: 5_000, attempts: 2 }).serialPlan(500)).toBeNull();
  });

  it('stretches the deadline for a server known to be slow, never past --hold', () => {
    const c = new RetryPolicy({ nameservers: [a], timeoutMs: 5_000, attempts: 2, holdMs: 8_000 });
    for (let i = 0; i < 10; i++) c.sample(a, 3_000);
    expect(c.deadlineMs()).toBeGreaterThan(5_000);
    for (let i = 0; i < 10; i++) c.sample(a, 20_000);
    expect(c.deadlineMs()).toBe(8_000);
  });

  it('waits --dns-timeout and no longer for a first question, and sends a retry within it', () => {
    const c = new RetryPolicy({ nameservers: [a], timeoutMs: 500, attempts: 2, retryMaxMs: 1_000 });
    expect(c.deadlineMs()).toBe(500);
    expect(c.plan(false)).toMatchObject({ deadlineMs: 500 });
    expect(c.plan(false).retryAfterMs(a, 0)).toBe(250);
  });

  it('stretches the deadline to three DNS timeouts at most, however late the answers came (liveness stays far)', () => {
    const c = new RetryPolicy({ nameservers: [a], timeoutMs: 5_000, attempts: 2, holdMs: 600_000 });
    for (const late of [1_950, 11_500, 31_000, 65_000]) c.sample(a, late);
    expect(c.deadlineMs()).toBe(15_000);
    // A timeout of 30 s (resolv.conf's most) is not stretched past itself: 20 s is the most a stretch goes to.
    const long = new RetryPolicy({ nameservers: [a], timeoutMs: 30_000, attempts: 2, holdMs: 600_000 });
    for (const late of [1_950, 11_500, 31_000, 65_000]) long.sample(a, late);
    expect(long.deadlineMs()).toBe(30_000);
  });

  it("ends a run of questions by twice a question's deadline, 30 s at most unless the timeout is longer, never past --hold", () => {
    const c = new RetryPolicy({ nameservers: [a], timeoutMs: 500, attempts: 2, holdMs: 600_000 });
    expect(c.runLimitMs()).toBe(1_000);
    for (const late of [1_950, 11_500, 31_000, 65_000]) c.sample(a, late);
    expect(c.runLimitMs()).toBe(3_000); // the deadline stretched to 1.5 s
    const slow = new RetryPolicy({ nameservers: [a], timeoutMs: 5_000, attempts: 2, holdMs: 600_000 });
    for (const late of [1_950, 11_500, 31_000, 65_000]) slow.sample(a, late);
    expect(slow.runLimitMs()).toBe(30_000);
    expect(new RetryPolicy({ nameservers: [a], timeoutMs: 60_000, attempts: 2, holdMs: 600_000 }).runLimitMs()).toBe(60_000);
    expect(new RetryPolicy({ nameservers: [a], timeoutMs: 5_000, attempts: 2, holdMs: 7_000 }).runLimitMs()).toBe(7_000);
  });
});
