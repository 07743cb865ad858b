import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentArgs, LOOPBACK_PODS, TestAgent } from '../support/agent.ts';
import { podKeys, podsAt, TestBind } from '../support/bind.ts';
import { TestHaproxy } from '../support/haproxy.ts';
import { fetchText } from '../support/http-client.ts';
import { freePort, waitFor } from '../support/procs.ts';

const PODS = podsAt(0, 3);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('faults that last (Debian HAProxy + BIND 9)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  async function setup(): Promise<{ bind: TestBind; haproxy: TestHaproxy }> {
    const bind = new TestBind();
    await bind.start();
    cleanup.push(() => bind.stop());
    await bind.setPods(PODS);
    const haproxy = new TestHaproxy({ frontendPort: await freePort(), serverLines: ['server-template srv 6 127.0.0.1:9 disabled'] });
    await haproxy.start();
    cleanup.push(() => haproxy.stop());
    return { bind, haproxy };
  }

  const start = (haproxy: TestHaproxy, bind: TestBind, extra: readonly string[]): TestAgent => {
    const agent = new TestAgent([
      ...agentArgs(haproxy.socket, `127.0.0.1:${String(bind.port)}`, 'be_app=_http._tcp.web.default.svc.cluster.local'),
      ...LOOPBACK_PODS,
      '--interval',
      '200ms',
      '--dns-timeout',
      '200ms',
      '--drain',
      '0',
      ...extra,
    ]);
    cleanup.push(() => agent.stop());
    return agent;
  };

  it('counts --hold-nx from the first NXDOMAIN: an outage longer than it, then NXDOMAIN, keeps the servers for --hold-nx', async () => {
    const { bind, haproxy } = await setup();
    const agent = start(haproxy, bind, ['--hold', '1m', '--hold-nx', '3s']);
    await haproxy.waitServing(podKeys(PODS));
    await bind.stop();
    await sleep(4_000); // longer than --hold-nx, shorter than --hold
    await bind.start(bind.port);
    await bind.deleteName(); // the service is gone: NXDOMAIN from now on
    await sleep(1_000);
    expect(await haproxy.serving()).toEqual(podKeys(PODS)); // an NXDOMAIN after the outage did not empty the backend
    await haproxy.waitServing([], { timeoutMs: 10_000 }); // ... until it has said so for --hold-nx
    expect(agent.count('DNS hold expired: the servers leave')).toBe(1);
  }, 40_000);

  it('fills HAProxy from --state-file when the agent and HAProxy restart while DNS is down', async () => {
    const { bind, haproxy } = await setup();
    const stateFile = join(haproxy.dir, 'agent.state'); // beside the socket: the shared emptyDir
    const first = start(haproxy, bind, ['--state-file', stateFile]);
    await haproxy.waitServing(podKeys(PODS));
    await first.stop();
    await bind.stop();
    await haproxy.stop();
    await haproxy.start(); // every slot back in maintenance
    expect(await haproxy.serving()).toEqual([]);
    const second = start(haproxy, bind, ['--state-file', stateFile]);
    await haproxy.waitServing(podKeys(PODS));
    expect(second.count('state file read')).toBe(1);
    await second.waitForLog('DNS failing: holding the last good answer'); // DNS was down all along
    expect(await haproxy.serving()).toEqual(podKeys(PODS));
  });

  it('keeps /readyz at 200 beside a backend whose name never resolves, and through an outage longer than --hold', async () => {
    const bind = new TestBind();
    await bind.start();
    cleanup.push(() => bind.stop());
    await bind.setPods(PODS);
    const haproxy = new TestHaproxy({
      frontendPort: await freePort(),
      serverLines: ['server-template srv 6 127.0.0.1:9 disabled', 'backend be_nx', 'server-template srv 3 127.0.0.1:9 disabled'],
    });
    await haproxy.start();
    cleanup.push(() => haproxy.stop());
    const port = await freePort();
    const agent = start(haproxy, bind, [
      '--backend',
      'be_nx=_http._tcp.nothing.default.svc.cluster.local',
      '--hold',
      '2s',
      '--listen',
      `127.0.0.1:${String(port)}`,
    ]);
    const readyz = (): Promise<{ status: number; body: string }> => fetchText(`http://127.0.0.1:${String(port)}/readyz`);
    await haproxy.waitServing(podKeys(PODS));
    await waitFor('ready', async () => (await readyz()).status === 200);
    expect((await readyz()).body).toMatch(/^backend be_nx: DNS says NXDOMAIN \(for \d+s\); HAProxy left as it is$/m);
    await bind.stop();
    await agent.waitForLog('DNS hold expired: the servers leave');
    await haproxy.waitServing([]);
    const during = await readyz();
    expect(during.status).toBe(200);
    expect(during.body).toMatch(/^backend be_app: DNS failing \(\w+ for \d+s\); answer \d+s old, past --hold; 0 in force$/m);
  });
});
