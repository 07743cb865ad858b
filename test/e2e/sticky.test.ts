import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamicCookie } from '../../src/core/cookie.ts';
import { agentArgs, LOOPBACK_PODS, TestAgent } from '../support/agent.ts';
import { podKeys as keys, podsAt, type Pod, SERVICE, TestBind } from '../support/bind.ts';
import { TestHaproxy } from '../support/haproxy.ts';
import { get, TestPods } from '../support/pods.ts';
import { freePort, waitFor } from '../support/procs.ts';

const KEY = 'shared-secret';

describe('sessions survive scale events (Debian HAProxy + BIND 9)', () => {
  const bind = new TestBind();
  const pods = new TestPods();
  const all = podsAt(0, 10);
  let a: TestHaproxy;
  let b: TestHaproxy;
  let agentA: TestAgent;
  let agentB: TestAgent | null = null;
  const argsFor = (h: TestHaproxy): string[] => [
    ...agentArgs(h.socket, `127.0.0.1:${String(bind.port)}`, `be_app=${SERVICE}`),
    ...LOOPBACK_PODS,
    '--interval',
    '200ms',
    '--drain',
    '3s',
  ];

  beforeAll(async () => {
    await bind.start();
    await pods.start(all);
    a = new TestHaproxy({ frontendPort: await freePort(), slots: 10, cookieKey: KEY });
    b = new TestHaproxy({ frontendPort: await freePort(), slots: 10, cookieKey: KEY });
    await a.start();
    await b.start();
    await bind.setPods(all.slice(0, 3));
    agentA = new TestAgent(argsFor(a));
    const want = JSON.stringify(keys(all.slice(0, 3)));
    await waitFor('the first three pods in HAProxy', async () => JSON.stringify(await a.serving()) === want);
  });

  afterAll(async () => {
    await agentA.stop();
    await agentB?.stop();
    await a.stop();
    await b.stop();
    await bind.stop();
    await pods.stop();
  });

  it('keeps a client on its pod through 3 -> 8 -> 3 while the pod lives, then through its drain, then redispatches it', async () => {
    const mine = all[2];
    if (mine === undefined) throw new Error('no pod');
    const cookie = dynamicCookie(KEY, mine.address, mine.port);
    const port = a.options.frontendPort;
    const mustReach = async (): Promise<void> => {
      for (let i = 0; i < 4; i++) expect((await get(port, cookie)).pod).toBe(`${mine.address}:8080`);
    };
    await mustReach();
    for (const n of [8, 3]) {
      await bind.setPods(all.slice(0, n));
      await a.waitServing(keys(all.slice(0, n)));
      await mustReach();
    }
    // The pod leaves DNS: it drains (the cookie still reaches it), then is redispatched.
    const rest = [all[0], all[1]].filter((p): p is Pod => p !== undefined);
    await bind.setPods(rest);
    await a.waitServing(keys(rest));
    await mustReach();
    await expect.poll(async () => (await get(port, cookie)).pod, { timeout: 10_000, interval: 250 }).not.toBe(`${mine.address}:8080`);
    const after = await get(port, cookie);
    expect(keys(rest)).toContain(after.pod);
    expect(after.cookie).not.toBeNull();
    expect(after.cookie).not.toBe(cookie);
  });

  it('leads a cookie from one HAProxy to the same pod through another, whose slots were filled in another order', async () => {
    // HAProxy b gets its agent only now, with the pods in DNS in another order of arrival.
    await bind.setPods([all[6], all[4]].filter((p): p is Pod => p !== undefined));
    await expect
      .poll(() => a.serving(), { timeout: 10_000, interval: 100 })
      .toEqual(keys([all[4], all[6]].filter((p): p is Pod => p !== undefined)));
    agentB = new TestAgent(argsFor(b));
    await expect
      .poll(() => b.serving(), { timeout: 10_000, interval: 100 })
      .toEqual(keys([all[4], all[6]].filter((p): p is Pod => p !== undefined)));
    await bind.setPods(all.slice(3, 9));
    await a.waitServing(keys(all.slice(3, 9)));
    await b.waitServing(keys(all.slice(3, 9)));
    const slotOf = async (h: TestHaproxy, p: Pod): Promise<string | undefined> =>
      [...(await h.servers())].find(([, s]) => s.address === p.address && (s.admin & 0x23) === 0)?.[0];
    const differs: Pod[] = [];
    for (const p of all.slice(3, 9)) if ((await slotOf(a, p)) !== (await slotOf(b, p))) differs.push(p);
    expect(differs.length).toBeGreaterThan(0);
    for (const p of differs) {
      let cookie: string | null = null;
      for (let i = 0; i < 12 && cookie === null; i++) {
        const r = await get(a.options.frontendPort);
        if (r.pod === `${p.address}:8080`) cookie = r.cookie;
      }
      expect(cookie).not.toBeNull();
      for (let i = 0; i < 3; i++) expect((await get(b.options.frontendPort, cookie ?? '')).pod).toBe(`${p.address}:8080`);
    }
  });

  it('sends no command after an agent restart when DNS did not change', async () => {
    const before = await a.servers();
    await agentA.stop();
    agentA = new TestAgent(argsFor(a));
    await agentA.waitForLog('starting');
    await new Promise((r) => setTimeout(r, 1_500)); // several passes
    expect(agentA.count('server change')).toBe(0);
    expect(await a.servers()).toEqual(before);
  });
});
