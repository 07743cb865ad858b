import { afterEach, describe, expect, it } from 'vitest';
import { agentArgs, LOOPBACK_PODS, TestAgent } from '../support/agent.ts';
import { parseShowStat } from '../../src/haproxy/parse.ts';
import { podKeys, podName, podsAt, SERVICE, TestBind } from '../support/bind.ts';
import { TestHaproxy } from '../support/haproxy.ts';
import { freePort, waitFor } from '../support/procs.ts';

describe('--dynamic-servers: beyond the slots (Debian HAProxy 2.6 + BIND 9)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  /** BIND with `publish`'s pods (10 by default), a HAProxy with `serverLines` (4 slots by default), and the agent with `flags`. */
  async function setup(
    flags: readonly string[],
    o: { serverLines?: readonly string[]; publish?: (bind: TestBind) => Promise<void> } = {},
  ): Promise<{ bind: TestBind; haproxy: TestHaproxy; agent: TestAgent }> {
    const bind = new TestBind();
    await bind.start();
    cleanup.push(() => bind.stop());
    await (o.publish ?? ((b) => b.setPods(podsAt(0, 10))))(bind);
    const haproxy = new TestHaproxy({
      frontendPort: await freePort(),
      serverLines: o.serverLines ?? ['server-template srv 4 127.0.0.1:9 disabled'],
    });
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

  it('adds the priority-10 pods that one backup slot cannot hold as backup servers, once', async () => {
    const preferred = podsAt(0, 2);
    const fallback = podsAt(2, 3);
    const { haproxy, agent } = await setup(['--dynamic-servers', '--log-level', 'debug'], {
      serverLines: ['server-template srv 2 127.0.0.1:9 disabled', 'server-template bk 1 127.0.0.1:9 backup disabled'],
      publish: async (bind) => {
        await bind.setPods(preferred);
        await bind.update(
          fallback.flatMap((p) => [
            `update add ${podName(p.address)}. 5 IN A ${p.address}`,
            `update add ${SERVICE}. 5 IN SRV 10 33 ${String(p.port)} ${podName(p.address)}.`,
          ]),
        );
      },
    });
    await haproxy.waitServing(podKeys([...preferred, ...fallback]));
    // Ten socket lane runs more: added as active servers, they were added again run after run.
    const runs = agent.count('socket lane ran');
    await waitFor('ten socket lane runs', () => agent.count('socket lane ran') >= runs + 10, 10_000);
    expect(await added(haproxy)).toEqual(['srv-a1', 'srv-a2']);
    expect(agent.count('server added: more endpoints than slots')).toBe(2);
    const stat = parseShowStat(await haproxy.command('show stat be_app 6 -1'), ['svname', 'bck', 'addr']);
    const backups = stat.filter((r) => r['bck'] === '1').map((r) => `${r['svname'] ?? ''} ${r['addr'] ?? ''}`);
    expect(backups.sort()).toEqual(['bk1 127.0.1.3:8080', 'srv-a1 127.0.1.4:8080', 'srv-a2 127.0.1.5:8080']);
  });

  it('changes nothing without the flag: 4 slots serve, the other 6 pods are said to have none', async () => {
    const { haproxy, agent } = await setup([]);
    await haproxy.waitServing(podKeys(podsAt(0, 4)));
    await agent.waitForLog('more endpoints than server slots: these get none (add slots to the server-template)');
    expect(await added(haproxy)).toEqual([]);
  });
});
