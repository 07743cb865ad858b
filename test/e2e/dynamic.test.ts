import { afterEach, describe, expect, it } from 'vitest';
import { agentArgs, LOOPBACK_PODS, TestAgent } from '../support/agent.ts';
import { podKeys, podsAt, SERVICE, TestBind } from '../support/bind.ts';
import { TestHaproxy } from '../support/haproxy.ts';
import { freePort } from '../support/procs.ts';

describe('--dynamic-servers: beyond the slots (Debian HAProxy 2.6 + BIND 9)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  async function setup(flags: readonly string[]): Promise<{ bind: TestBind; haproxy: TestHaproxy; agent: TestAgent }> {
    const bind = new TestBind();
    await bind.start();
    cleanup.push(() => bind.stop());
    await bind.setPods(podsAt(0, 10));
    const haproxy = new TestHaproxy({ frontendPort: await freePort(), serverLines: ['server-template srv 4 127.0.0.1:9 disabled'] });
    await haproxy.start();
    cleanup.push(() => haproxy.stop());
    const agent = new TestAgent([
      ...agentArgs(haproxy.socket, `127.0.0.1:${String(bind.port)}`, `be_app=${SERVICE}`),
      ...LOOPBACK_PODS,
      '--interval',
      '300ms',
      '--drain',
      '0',
      ...flags,
    ]);
    cleanup.push(() => agent.stop());
    return { bind, haproxy, agent };
  }

  const added = async (haproxy: TestHaproxy): Promise<string[]> =>
    [...(await haproxy.servers()).keys()].filter((n) => n.startsWith('srv-a'));

  it('serves 10 pods with 4 slots, leaves no added server at 3 pods, and adds them again after a restart', async () => {
    const { bind, haproxy, agent } = await setup(['--dynamic-servers']);
    await haproxy.waitServing(podKeys(podsAt(0, 10)));
    expect(await added(haproxy)).toHaveLength(6);
    // Whatever release of 2.x the machine installed: the version as HAProxy prints it, any Debian revision.
    await agent.waitForLog(
      /^servers added to backend be_app get no sticky cookie on HAProxy 2\.\d+\.\d+\S* \(3\.0 gives them their dynamic cookie\): their clients are not sticky$/,
    );

    await bind.setPods(podsAt(0, 3));
    await haproxy.waitServing(podKeys(podsAt(0, 3)));
    await expect.poll(() => added(haproxy), { timeout: 5_000, interval: 100 }).toEqual([]);

    await bind.setPods(podsAt(0, 10));
    await haproxy.waitServing(podKeys(podsAt(0, 10)));
    await haproxy.stop();
    await haproxy.start(); // the added servers are gone with the old process
    await haproxy.waitServing(podKeys(podsAt(0, 10)));
    expect(await added(haproxy)).toHaveLength(6);
  });

  it('changes nothing without the flag: 4 slots serve, the other 6 pods are said to have none', async () => {
    const { haproxy, agent } = await setup([]);
    await haproxy.waitServing(podKeys(podsAt(0, 4)));
    await agent.waitForLog('more endpoints than server slots: these get none (add slots to the server-template)');
    expect(await added(haproxy)).toEqual([]);
  });
});
