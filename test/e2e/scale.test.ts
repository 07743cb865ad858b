import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamicCookie } from '../../src/core/cookie.ts';
import { agentArgs, LOOPBACK_PODS, TestAgent } from '../support/agent.ts';
import { podKeys as keys, podsAt, type Pod, SERVICE, TestBind } from '../support/bind.ts';
import { TestHaproxy } from '../support/haproxy.ts';
import { get, TestPods } from '../support/pods.ts';
import { freePort } from '../support/procs.ts';

describe('SRV answers become HAProxy servers (Debian HAProxy + BIND 9)', () => {
  const bind = new TestBind();
  const pods = new TestPods();
  let haproxy: TestHaproxy;
  let agent: TestAgent;

  beforeAll(async () => {
    await bind.start();
    haproxy = new TestHaproxy({ frontendPort: await freePort(), slots: 8 });
    await haproxy.start();
    const all = podsAt(0, 8);
    await pods.start(all);
    await bind.setPods(all.slice(0, 3));
    agent = new TestAgent([
      ...agentArgs(haproxy.socket, `127.0.0.1:${String(bind.port)}`, `be_app=${SERVICE}`),
      ...LOOPBACK_PODS,
      '--interval',
      '200ms',
      '--drain',
      '4s',
    ]);
  });

  afterAll(async () => {
    await agent.stop();
    await haproxy.stop();
    await bind.stop();
    await pods.stop();
  });

  it('converges 3 -> 6 -> 2 pods, never moving a live server', async () => {
    const all = podsAt(0, 8);
    await haproxy.waitServing(keys(all.slice(0, 3)));
    const slotOf = async (key: string): Promise<string | undefined> =>
      [...(await haproxy.servers())].find(([, s]) => `${s.address}:${String(s.port)}` === key && (s.admin & 0x23) === 0)?.[0];
    const firstSlot = await slotOf('127.0.1.1:8080');

    await bind.setPods(all.slice(0, 6));
    await haproxy.waitServing(keys(all.slice(0, 6)));
    expect(await slotOf('127.0.1.1:8080')).toBe(firstSlot);

    await bind.setPods([all[0], all[5]].filter((p): p is Pod => p !== undefined));
    await expect
      .poll(() => haproxy.serving(), { timeout: 10_000, interval: 100 })
      .toEqual(keys([all[0], all[5]].filter((p): p is Pod => p !== undefined)));
    expect(await slotOf('127.0.1.1:8080')).toBe(firstSlot);
    // The removed pods drain first, then go to maintenance after --drain.
    const drained = [...(await haproxy.servers()).values()].filter((s) => (s.admin & 0x08) !== 0);
    expect(drained.length).toBe(4);
    await expect
      .poll(async () => [...(await haproxy.servers()).values()].filter((s) => (s.admin & 0x08) !== 0).length, {
        timeout: 10_000,
        interval: 200,
      })
      .toBe(0);
  });

  it('keeps a cookie-holding client on its pod while other pods come and go', async () => {
    const all = podsAt(0, 8);
    const mine = all[1];
    if (mine === undefined) throw new Error('no pod');
    await bind.setPods(all.slice(0, 3));
    await haproxy.waitServing(keys(all.slice(0, 3)));
    const cookie = dynamicCookie('test-key', mine.address, mine.port);
    // HAProxy hands out exactly the cookie the algorithm predicts.
    let seen: string | null = null;
    for (let i = 0; i < 6 && seen !== cookie; i++) {
      const r = await get(haproxy.options.frontendPort);
      if (r.pod === `${mine.address}:8080`) seen = r.cookie;
    }
    expect(seen).toBe(cookie);

    for (const set of [all.slice(1, 7), [all[1], all[7]], all.slice(0, 5)]) {
      const wanted = set.filter((p): p is Pod => p !== undefined);
      await bind.setPods(wanted);
      await haproxy.waitServing(keys(wanted));
      for (let i = 0; i < 5; i++) {
        const r = await get(haproxy.options.frontendPort, cookie);
        expect(r.status).toBe(200);
        expect(r.pod).toBe(`${mine.address}:8080`);
      }
    }
  });
});
