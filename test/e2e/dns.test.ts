import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentArgs, LOOPBACK_PODS, TestAgent } from '../support/agent.ts';
import { podKeys as keys, podsAt, type Pod, SERVICE, TestBind } from '../support/bind.ts';
import { TestHaproxy } from '../support/haproxy.ts';
import { fetchText } from '../support/http-client.ts';
import { freePort } from '../support/procs.ts';

describe('DNS that fails and grows (Debian HAProxy + BIND 9)', () => {
  const bind = new TestBind();
  let haproxy: TestHaproxy;
  let agent: TestAgent;

  beforeAll(async () => {
    await bind.start();
    // No health checks: these slots point at addresses nothing listens on.
    haproxy = new TestHaproxy({ frontendPort: await freePort(), serverLines: ['server-template srv 1000 127.0.0.1:9 disabled'] });
    await haproxy.start();
    agent = new TestAgent([
      ...agentArgs(haproxy.socket, `127.0.0.1:${String(bind.port)}`, `be_app=${SERVICE}`),
      ...LOOPBACK_PODS,
      '--interval',
      '300ms',
      '--dns-timeout',
      '300ms',
      '--drain',
      '0',
    ]);
  });

  afterAll(async () => {
    await agent.stop();
    await haproxy.stop();
    await bind.stop();
  });

  it('follows 40 pods, an answer BIND truncates over UDP', async () => {
    await bind.setPods(podsAt(0, 40));
    await haproxy.waitServing(keys(podsAt(0, 40)), { timeoutMs: 15_000 });
  });

  it('follows 1000 pods, an answer near 60 KB over TCP', async () => {
    await bind.setPods(podsAt(0, 1000));
    await expect.poll(async () => (await haproxy.serving()).length, { timeout: 30_000, interval: 300 }).toBe(1000);
    expect(await haproxy.serving()).toEqual(keys(podsAt(0, 1000)));
  });

  it('leaves HAProxy unchanged while BIND is stopped, and converges when it comes back with another set', async () => {
    await bind.setPods(podsAt(0, 5));
    await haproxy.waitServing(keys(podsAt(0, 5)), { timeoutMs: 15_000 });
    const before = await haproxy.servers();
    await bind.stop();
    await new Promise((r) => setTimeout(r, 3_000)); // ten intervals
    expect(await haproxy.servers()).toEqual(before);
    expect(agent.count('DNS failing: holding the last good answer')).toBe(1);

    await bind.start(bind.port);
    await bind.setPods(podsAt(3, 4));
    await haproxy.waitServing(keys(podsAt(3, 4)), { timeoutMs: 15_000 });
    expect(agent.count('DNS answering again')).toBe(1);
  });

  it('fills slots with IPv6 endpoints (AAAA records)', async () => {
    const v6: Pod[] = [18081, 18082, 18083].map((port) => ({ address: '::1', port }));
    await bind.setPods(v6);
    await haproxy.waitServing(keys(v6), { timeoutMs: 15_000 });
  });
});

describe('the serial watch (--watch), against BIND, whose dynamic updates raise the serial', () => {
  const bind = new TestBind();
  let haproxy: TestHaproxy;
  let agent: TestAgent | null = null;

  beforeAll(async () => {
    await bind.start();
    haproxy = new TestHaproxy({ frontendPort: await freePort(), serverLines: ['server-template srv 10 127.0.0.1:9 disabled'] });
    await haproxy.start();
  });

  afterAll(async () => {
    await agent?.stop();
    await haproxy.stop();
    await bind.stop();
  });

  const start = (watch: string): TestAgent =>
    new TestAgent([
      ...agentArgs(haproxy.socket, `127.0.0.1:${String(bind.port)}`, `be_app=${SERVICE}`),
      ...LOOPBACK_PODS,
      '--interval',
      '10m',
      '--drain',
      '0',
      '--watch',
      watch,
      '--log-level',
      'debug',
    ]);

  it('brings a change in well before an interval of 10 minutes; without it the change waits', async () => {
    await bind.setPods(podsAt(0, 2));
    agent = start('100ms');
    await haproxy.waitServing(keys(podsAt(0, 2)), { timeoutMs: 15_000 });
    await bind.setPods(podsAt(1, 3));
    await haproxy.waitServing(keys(podsAt(1, 3)), { timeoutMs: 15_000 });
    await agent.stop();

    agent = start('0');
    await agent.waitForLog('dns lane ran'); // its first run, before the change
    expect(await haproxy.serving()).toEqual(keys(podsAt(1, 3)));
    await bind.setPods(podsAt(5, 1));
    await new Promise((r) => setTimeout(r, 2_000)); // twenty times the watch above
    expect(await haproxy.serving()).toEqual(keys(podsAt(1, 3)));
  });

  it('with --serial-trust, asks only the serial at rest once it has moved and settled, and a change still arrives at once', async () => {
    await agent?.stop();
    await bind.setPods(podsAt(0, 2));
    const port = await freePort();
    agent = new TestAgent([
      ...agentArgs(haproxy.socket, `127.0.0.1:${String(bind.port)}`, `be_app=${SERVICE}`),
      ...LOOPBACK_PODS,
      '--interval',
      '200ms',
      '--watch',
      '100ms',
      '--serial-trust',
      '30s',
      '--listen',
      `127.0.0.1:${String(port)}`,
    ]);
    await haproxy.waitServing(keys(podsAt(0, 2)), { timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 500)); // the watch reads the serial
    await bind.setPods(podsAt(0, 3)); // and sees it move
    await haproxy.waitServing(keys(podsAt(0, 3)), { timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 8_000)); // the records' TTL (5 s) plus 2 s: the serial has settled
    /** DNS queries so far: [records asked (any result but a serial read), serial reads]. */
    const queries = async (): Promise<[number, number]> => {
      const rows = (await fetchText(`http://127.0.0.1:${String(port)}/metrics`)).body
        .split('\n')
        .filter((l) => l.startsWith('haproxy_dns_agent_dns_queries_total{'));
      const sum = (soa: boolean): number =>
        rows.filter((l) => l.includes('result="soa"') === soa).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
      return [sum(false), sum(true)];
    };
    const [asked, serials] = await queries();
    await new Promise((r) => setTimeout(r, 2_000)); // ten intervals
    const [askedAfter, serialsAfter] = await queries();
    expect(askedAfter).toBe(asked);
    expect(serialsAfter).toBeGreaterThan(serials + 10);
    const changedAt = Date.now();
    await bind.setPods(podsAt(6, 2));
    await haproxy.waitServing(keys(podsAt(6, 2)), { timeoutMs: 15_000 });
    expect(Date.now() - changedAt).toBeLessThan(2_000);
  });
});
