import { afterEach, describe, expect, it } from 'vitest';
import { agentArgs, LOOPBACK_PODS, TestAgent } from '../support/agent.ts';
import { parseServersState, parseShowStat, type ServerStateRow } from '../../src/haproxy/parse.ts';
import { podKeys, podName, podsAt, SERVICE, TestBind } from '../support/bind.ts';
import { TestHaproxy } from '../support/haproxy.ts';
import { freePort, waitFor } from '../support/procs.ts';

describe('--dynamic-servers: beyond the slots (Debian HAProxy 2.6 + BIND 9)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  /**
   * BIND with `publish`'s pods (10 by default), a HAProxy with `serverLines` (4 slots by
   * default), and the agent with `flags` for `backend` (be_app, every server managed, by
   * default); `restart` stops the agent and starts another with the same flags.
   */
  async function setup(
    flags: readonly string[],
    o: { serverLines?: readonly string[]; publish?: (bind: TestBind) => Promise<void>; backend?: string } = {},
  ): Promise<{ bind: TestBind; haproxy: TestHaproxy; agent: TestAgent; restart: () => Promise<TestAgent> }> {
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
    const args = [
      ...agentArgs(haproxy.socket, `127.0.0.1:${String(bind.port)}`, `${o.backend ?? 'be_app'}=${SERVICE}`),
      ...LOOPBACK_PODS,
      '--interval',
      '300ms',
      '--drain',
      '0',
      ...flags,
    ];
    let agent = new TestAgent(args);
    cleanup.push(() => agent.stop());
    const restart = async (): Promise<TestAgent> => {
      await agent.stop();
      agent = new TestAgent(args);
      return agent;
    };
    return { bind, haproxy, agent, restart };
  }

  /** The backend's servers as `show servers state` prints them, srv_id included. */
  const rows = async (haproxy: TestHaproxy): Promise<ServerStateRow[]> =>
    parseServersState(await haproxy.command('show servers state be_app'));
  const row = async (haproxy: TestHaproxy, name: string): Promise<ServerStateRow | undefined> =>
    (await rows(haproxy)).find((r) => r.name === name);
  /** Waits for `n` more socket lane runs of `agent`. */
  const runs = async (agent: TestAgent, n: number): Promise<void> => {
    const before = agent.count('socket lane ran');
    await waitFor(`${String(n)} socket lane runs`, () => agent.count('socket lane ran') >= before + n, 10_000);
  };

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

  it('fills the slots of a template named like the added servers as slots, and adds servers beside them', async () => {
    const { haproxy, agent } = await setup(['--dynamic-servers', '--log-level', 'debug'], {
      serverLines: ['server-template srv-a 4 127.0.0.1:9 check disabled'],
    });
    await haproxy.waitServing(podKeys(podsAt(0, 10)));
    await runs(agent, 3);
    const all = await rows(haproxy);
    // The configured slots keep their place (srv_id 1-4) and their health check: never deleted, never added again.
    const slots = all.filter((r) => r.id <= 4);
    expect(slots.map((r) => [r.name, r.id, r.checked, r.admin])).toEqual([
      ['srv-a1', 1, true, 'ready'],
      ['srv-a2', 2, true, 'ready'],
      ['srv-a3', 3, true, 'ready'],
      ['srv-a4', 4, true, 'ready'],
    ]);
    expect(all).toHaveLength(10);
    expect(agent.count('server deleted: added at run time, its pod left')).toBe(0);
    expect(agent.count('server added: more endpoints than slots')).toBe(6);
  });

  it('leaves alone the servers that are not slots of the prefix: static ones named like added servers or starting with the prefix', async () => {
    const { haproxy, agent } = await setup(['--dynamic-servers', '--log-level', 'debug'], {
      backend: 'be_app/srv',
      serverLines: [
        'server-template srv 2 127.0.0.1:9 disabled',
        'server srv-a1 127.0.0.1:9 disabled',
        'server srv-a7 127.0.2.7:8080',
        'server srvx 127.0.2.8:8080',
      ],
      publish: (bind) => bind.setPods(podsAt(0, 4)),
    });
    await haproxy.waitServing([...podKeys(podsAt(0, 4)), '127.0.2.7:8080', '127.0.2.8:8080']);
    await runs(agent, 3);
    const byName = new Map((await rows(haproxy)).map((r) => [r.name, r]));
    expect([byName.get('srv-a1'), byName.get('srv-a7'), byName.get('srvx')].map((r) => r && [r.id, r.address, r.port, r.admin])).toEqual([
      [3, '127.0.0.1', 9, 'maint'],
      [4, '127.0.2.7', 8080, 'ready'],
      [5, '127.0.2.8', 8080, 'ready'],
    ]);
    // Two added servers for the two pods the slots could not hold, under names no other server has.
    expect([...byName.keys()].filter((n) => !['srv1', 'srv2', 'srv-a1', 'srv-a7', 'srvx'].includes(n))).toEqual(['srv-a2', 'srv-a3']);
    expect(agent.count('server deleted: added at run time, its pod left')).toBe(0);
  });

  it('leaves alone a server someone else added, before and after an agent restart, and deletes only its own', async () => {
    const { bind, haproxy, agent, restart } = await setup(['--dynamic-servers', '--log-level', 'debug'], {
      backend: 'be_app/srv',
      serverLines: ['server-template srv 2 127.0.0.1:9 disabled'],
      publish: (b) => b.setPods(podsAt(0, 4)),
    });
    await haproxy.waitServing(podKeys(podsAt(0, 4)));
    expect(await added(haproxy)).toEqual(['srv-a1', 'srv-a2']);
    // An operator adds a server of the agent's name form, and puts it in service.
    expect(await haproxy.command('add server be_app/srv-a3 127.0.2.3:8080')).toMatch(/New server registered/);
    expect((await haproxy.command('set server be_app/srv-a3 state ready')).trim()).toBe('');
    const theirs = await row(haproxy, 'srv-a3');
    await runs(agent, 3);
    await bind.setPods(podsAt(0, 5));
    await haproxy.waitServing([...podKeys(podsAt(0, 5)), '127.0.2.3:8080']);
    expect(await added(haproxy)).toEqual(['srv-a1', 'srv-a2', 'srv-a3', 'srv-a4']);

    const second = await restart();
    await runs(second, 3);
    await bind.setPods(podsAt(0, 2));
    await haproxy.waitServing([...podKeys(podsAt(0, 2)), '127.0.2.3:8080']);
    // Its own added servers are deleted once their pods left; the operator's stays as it was.
    await expect.poll(() => added(haproxy), { timeout: 5_000, interval: 100 }).toEqual(['srv-a3']);
    expect(await row(haproxy, 'srv-a3')).toEqual(theirs);
    expect(second.count('server deleted: added at run time, its pod left')).toBe(3);
  });

  it('knows its own added servers after its restart with HAProxy running: neither added again nor deleted', async () => {
    const { haproxy, restart } = await setup(['--dynamic-servers', '--log-level', 'debug']);
    await haproxy.waitServing(podKeys(podsAt(0, 10)));
    const before = await rows(haproxy);
    // Its own are told by their srv_id, which the agent derives from the process: 2^30 and above.
    expect(before.filter((r) => r.id >= 2 ** 30).map((r) => r.name)).toEqual(['srv-a1', 'srv-a2', 'srv-a3', 'srv-a4', 'srv-a5', 'srv-a6']);
    const second = await restart();
    await runs(second, 5);
    expect(await rows(haproxy)).toEqual(before);
    expect(second.count('server added: more endpoints than slots')).toBe(0);
    expect(second.count('server deleted: added at run time, its pod left')).toBe(0);
  });

  it('adds servers for new pods while the slots drain the old ones, instead of cutting the drains short', async () => {
    const { bind, haproxy, agent } = await setup(['--dynamic-servers', '--drain', '30s', '--log-level', 'debug'], {
      serverLines: ['server-template srv 2 127.0.0.1:9 disabled'],
      publish: (b) => b.setPods(podsAt(0, 2)),
    });
    await haproxy.waitServing(podKeys(podsAt(0, 2)));
    await bind.setPods(podsAt(2, 2));
    await haproxy.waitServing(podKeys(podsAt(2, 2)));
    const servers = await haproxy.servers();
    // The slots still drain pods 1 and 2 (FDRAIN); two added servers serve pods 3 and 4.
    expect([servers.get('srv1'), servers.get('srv2')].map((s) => s && [`${s.address}:${String(s.port)}`, s.admin & 0x08])).toEqual([
      [podKeys(podsAt(0, 1))[0], 0x08],
      [podKeys(podsAt(1, 1))[0], 0x08],
    ]);
    expect(await added(haproxy)).toEqual(['srv-a1', 'srv-a2']);
    expect(agent.count('no free slot: cutting the longest drain short for a new endpoint')).toBe(0);
  });
});
