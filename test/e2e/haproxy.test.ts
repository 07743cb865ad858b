import { afterEach, describe, expect, it } from 'vitest';
import { LOOPBACK_PODS, TestAgent } from '../support/agent.ts';
import { podKeys as keys, podsAt, SERVICE, TestBind } from '../support/bind.ts';
import { TestHaproxy } from '../support/haproxy.ts';
import { freePort } from '../support/procs.ts';

const PODS = podsAt(0, 3);

describe("HAProxy's side: restarts, reloads, several processes (Debian HAProxy + BIND 9)", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  async function setup(haproxies: TestHaproxy[], start = true): Promise<{ bind: TestBind; agent: TestAgent }> {
    const bind = new TestBind();
    await bind.start();
    cleanup.push(() => bind.stop());
    await bind.setPods(PODS);
    if (start) for (const h of haproxies) await h.start();
    for (const h of haproxies) cleanup.push(() => h.stop());
    const agent = new TestAgent([
      ...haproxies.flatMap((h) => ['--socket', h.socket]),
      '--backend',
      `be_app=${SERVICE}`,
      '--nameserver',
      `127.0.0.1:${String(bind.port)}`,
      ...LOOPBACK_PODS,
      '--interval',
      '300ms',
    ]);
    cleanup.push(() => agent.stop());
    return { bind, agent };
  }

  const noCheck = ['server-template srv 6 127.0.0.1:9 disabled'];

  it('waits for HAProxy when started first, and fills it as soon as it appears', async () => {
    const haproxy = new TestHaproxy({ frontendPort: await freePort(), serverLines: noCheck });
    const { agent } = await setup([haproxy], false);
    await agent.waitForLog('waiting for HAProxy');
    await new Promise((r) => setTimeout(r, 1_000));
    await haproxy.start();
    await haproxy.waitServing(keys(PODS));
    await agent.waitForLog('HAProxy reachable again'); // said by the run that filled it, once it ends
    expect(agent.count('waiting for HAProxy')).toBe(1);
    expect(agent.count('HAProxy reachable again')).toBe(1);
  });

  it('restores every server within about an interval after HAProxy is killed and restarted', async () => {
    const haproxy = new TestHaproxy({ frontendPort: await freePort(), serverLines: noCheck });
    const { agent } = await setup([haproxy]);
    await haproxy.waitServing(keys(PODS));
    haproxy.proc?.child.kill('SIGKILL');
    await haproxy.stop();
    await haproxy.start();
    // Within about an interval (300 ms) in practice; how fast is for the benchmark to say.
    await haproxy.waitServing(keys(PODS));
    // The run that pushed says so once it has verified the push: wait for its line, then count.
    await agent.waitForLog('HAProxy reloaded or restarted: pushing every managed server again');
    expect(agent.count('HAProxy reloaded or restarted: pushing every managed server again')).toBe(1);
  });

  it('leaves no slot "ready" on its placeholder address after a reload with a server-state-file', async () => {
    const haproxy = new TestHaproxy({ frontendPort: await freePort(), serverLines: noCheck, stateFile: true });
    const { agent } = await setup([haproxy]);
    await haproxy.waitServing(keys(PODS));
    await haproxy.saveState();
    await haproxy.reload();
    // HAProxy may serve from the state file at once: wait for the agent to have seen the reload and pushed.
    await agent.waitForLog('HAProxy reloaded or restarted: pushing every managed server again');
    await haproxy.waitServing(keys(PODS));
    const placeholders = [...(await haproxy.servers()).values()].filter((s) => s.address === '127.0.0.1' && (s.admin & 0x23) === 0);
    expect(placeholders).toEqual([]);
    expect(agent.count('HAProxy reloaded or restarted: pushing every managed server again')).toBe(1);
  });

  it('fills two HAProxy processes behind two sockets, one of them stopped for a while', async () => {
    const a = new TestHaproxy({ frontendPort: await freePort(), serverLines: noCheck });
    const b = new TestHaproxy({ frontendPort: await freePort(), serverLines: noCheck });
    const { bind, agent } = await setup([a, b]);
    await a.waitServing(keys(PODS));
    await b.waitServing(keys(PODS));
    await b.stop();
    const next = podsAt(1, 4);
    await bind.setPods(next);
    await a.waitServing(keys(next));
    await new Promise((r) => setTimeout(r, 2_000)); // down for several intervals, longer than the connect retries
    await b.start();
    await b.waitServing(keys(next));
    expect(agent.count('waiting for HAProxy')).toBe(1);
  });
});
