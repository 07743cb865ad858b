import { mkdtempSync, renameSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseServersState } from '../../src/haproxy/parse.ts';
import { splitReplies } from '../../src/haproxy/framing.ts';
import { agentArgs, LOOPBACK_PODS, TestAgent } from '../support/agent.ts';
import { podKeys as keys, podsAt, SERVICE, TestBind, type Pod } from '../support/bind.ts';
import { TestHaproxy, type HaproxyOptions } from '../support/haproxy.ts';
import { fetchText } from '../support/http-client.ts';
import { get, TestPods } from '../support/pods.ts';
import { freePort } from '../support/procs.ts';

const PODS = podsAt(0, 4);
/** Slots HAProxy gives back in full from a server-state-file: a name never resolved, the placeholder to start from. */
const NAMED_SLOTS = ['server-template srv 6 slot.invalid:9 init-addr last,127.0.0.1 disabled'];
const IP_SLOTS = ['server-template srv 6 127.0.0.1:9 disabled'];

describe('reloads and restarts of HAProxy: readiness that is true, slots filled at once (Debian HAProxy + BIND 9)', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  async function setup(
    o: Readonly<{
      haproxy: Omit<HaproxyOptions, 'frontendPort'>;
      interval?: string;
      listen?: boolean;
      pods?: readonly Pod[];
      /** More flags for the agent. */
      extra?: readonly string[];
    }>,
  ): Promise<{
    haproxy: TestHaproxy;
    agent: TestAgent;
    readyz: () => Promise<{ status: number; body: string }>;
    metrics: () => Promise<string>;
  }> {
    const bind = new TestBind();
    await bind.start();
    cleanup.push(() => bind.stop());
    const pods = o.pods ?? PODS;
    await bind.setPods(pods);
    const h = new TestHaproxy({ ...o.haproxy, frontendPort: await freePort() });
    await h.start();
    cleanup.push(() => h.stop());
    const port = await freePort();
    const agent = new TestAgent([
      ...agentArgs(h.socket, `127.0.0.1:${String(bind.port)}`, `be_app=${SERVICE}`),
      ...LOOPBACK_PODS,
      '--interval',
      o.interval ?? '1s',
      ...(o.listen === false ? [] : ['--listen', `127.0.0.1:${String(port)}`]),
      ...(o.extra ?? []),
    ]);
    cleanup.push(() => agent.stop());
    await h.waitServing(keys(pods));
    const url = `http://127.0.0.1:${String(port)}`;
    return {
      haproxy: h,
      agent,
      readyz: () => fetchText(`${url}/readyz`),
      metrics: async () => (await fetchText(`${url}/metrics`)).body,
    };
  }

  it('never answers /readyz 200 while HAProxy has no servers, sampled every 50 ms across five -sf reloads', async () => {
    const { haproxy, readyz } = await setup({ haproxy: { serverLines: IP_SLOTS, mode: 'standalone' } });
    await expect.poll(async () => (await readyz()).status, { timeout: 10_000 }).toBe(200);
    /** The process on the socket and what it serves, in one exchange. */
    const read = async (): Promise<{ pid: number; serving: string } | null> => {
      try {
        const [info = '', state = ''] = splitReplies(await haproxy.command('show info;show servers state be_app'), 2).replies;
        const serving = parseServersState(state)
          .filter((s) => (s.adminBits & 0x3b) === 0)
          .map((s) => `${s.address}:${String(s.port)}`)
          .sort();
        return { pid: Number(/^Pid: (\d+)$/m.exec(info)?.[1] ?? 0), serving: serving.join(' ') };
      } catch {
        return null; // a read that met the reload: the sample is not judged
      }
    };
    type Sample = { status: number; pid: number; serving: string };
    const samples: Sample[] = [];
    const sampling = { on: true };
    const sampler = (async () => {
      while (sampling.on) {
        // What HAProxy is before and after the probe: a sample is judged when the process did not change between them.
        const before = await read();
        const { status } = await readyz();
        const after = await read();
        if (before !== null && after !== null && before.pid === after.pid) samples.push({ status, pid: after.pid, serving: after.serving });
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    for (let i = 0; i < 5; i++) {
      await haproxy.reload();
      await new Promise((r) => setTimeout(r, 1_300)); // past the agent's interval: a lie would have had its whole window
    }
    sampling.on = false;
    await sampler;
    const want = keys(PODS).join(' ');
    const lies = samples.filter((s) => s.status === 200 && s.serving !== want);
    expect(lies).toEqual([]);
    expect(new Set(samples.map((s) => s.pid)).size).toBe(6); // every process was sampled
    expect(samples.filter((s) => s.status === 200).length).toBeGreaterThan(samples.length / 2);
  });

  it('fills a process the moment its socket appears (-sf reload), without waiting for its interval', async () => {
    const { haproxy, agent } = await setup({ haproxy: { serverLines: IP_SLOTS, mode: 'standalone' }, interval: '60s', listen: false });
    await haproxy.reload();
    // The next run by the interval is a minute away; the socket file, renamed into place, wakes the lane.
    await haproxy.waitServing(keys(PODS), { timeoutMs: 5_000 });
    await agent.waitForLog('HAProxy reloaded or restarted: pushing every managed server again', 5_000);
  });

  it('fills the new worker of a -W reload at once with --master-socket: the master closes its CLI when it reloads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hda-master-'));
    const masterSocket = join(dir, 'master.sock');
    const { haproxy, agent } = await setup({
      haproxy: { serverLines: IP_SLOTS, masterSocket },
      interval: '60s',
      listen: false,
      extra: ['--master-socket', masterSocket],
    });
    for (let i = 0; i < 2; i++) {
      await haproxy.reload();
      // No /readyz probe, the next run by the interval a minute away, the socket file as it was.
      await haproxy.waitServing(keys(PODS), { timeoutMs: 5_000 });
    }
    expect(agent.count('HAProxy reloaded or restarted: pushing every managed server again')).toBe(2);
    expect(agent.count(/^master CLI not held/)).toBe(0);
  });

  it('answers /readyz 503 after a -W reload (the socket handed over), and fills the new worker then, not at its interval', async () => {
    const { haproxy, readyz } = await setup({ haproxy: { serverLines: IP_SLOTS }, interval: '60s' });
    await expect.poll(async () => (await readyz()).status, { timeout: 10_000 }).toBe(200);
    const before = await haproxy.pid();
    await haproxy.reload();
    const after = await readyz();
    expect(after.status).toBe(503);
    expect(after.body.split('\n')[0]).toMatch(
      new RegExp(`HAProxy \\(pid (?!${String(before)}\\))\\d+\\) has not had backend be_app applied yet`),
    );
    await haproxy.waitServing(keys(PODS), { timeoutMs: 5_000 });
    await expect.poll(async () => (await readyz()).status, { timeout: 5_000 }).toBe(200);
  });

  it('answers /readyz 503 and sets haproxy_up to 0 when something that is not HAProxy takes the socket over', async () => {
    const { haproxy, readyz, metrics } = await setup({ haproxy: { serverLines: IP_SLOTS }, interval: '300ms' });
    await expect.poll(async () => (await readyz()).status, { timeout: 10_000 }).toBe(200);
    expect(await metrics()).toMatch(/^haproxy_dns_agent_haproxy_up\{socket="[^"]+"\} 1$/m);
    // Another program binds a socket of its own and renames it over HAProxy's path.
    const impostor = net.createServer((c) => {
      c.on('error', () => undefined);
      c.resume(); // reads what it is sent, so that the agent's close ends the connection
      c.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
    });
    const temp = `${haproxy.socket}.impostor`;
    await new Promise<void>((r) => impostor.listen(temp, r));
    cleanup.push(
      () =>
        new Promise<void>((r) => {
          impostor.close(() => {
            r();
          });
        }),
    );
    renameSync(temp, haproxy.socket);
    await expect.poll(async () => (await readyz()).status, { timeout: 5_000 }).toBe(503);
    expect((await readyz()).body.split('\n')[0]).toMatch(/^not ready: HAProxy socket \S+: a reply could not be read/);
    await expect.poll(metrics, { timeout: 5_000 }).toMatch(/^haproxy_dns_agent_haproxy_up\{socket="[^"]+"\} 0$/m);
  });

  it('serves the pods from the first instant of a process reloaded with a state file, slots declared with a name, the agent stopped', async () => {
    // Pods that answer, on a port of their own: other test runs on this machine serve 8080 on the same addresses.
    const running = podsAt(0, 4, await freePort());
    const pods = new TestPods();
    await pods.start(running);
    cleanup.push(() => pods.stop());
    const { haproxy, agent } = await setup({ haproxy: { serverLines: NAMED_SLOTS, mode: 'standalone', stateFile: true }, pods: running });
    // A sticky client on the second pod.
    const mine = keys(running.slice(1, 2))[0] ?? '';
    let cookie: string | null = null;
    for (let i = 0; i < 12 && cookie === null; i++) {
      const r = await get(haproxy.options.frontendPort);
      if (r.pod === mine) cookie = r.cookie;
    }
    expect(cookie).not.toBeNull();
    await agent.stop(); // nothing but HAProxy fills the new process
    await haproxy.saveState();
    await haproxy.reload();
    expect(await haproxy.serving()).toEqual(keys(running));
    for (let i = 0; i < 3; i++) expect((await get(haproxy.options.frontendPort, cookie ?? '')).pod).toBe(mine);
  });

  it('says what a state file does to slots declared with an IP literal, at the reload that shows it', async () => {
    const { haproxy, agent } = await setup({ haproxy: { serverLines: IP_SLOTS, mode: 'standalone', stateFile: true } });
    await haproxy.saveState();
    await haproxy.reload();
    await agent.waitForLog(
      /^backend be_app: the new HAProxy process started with servers srv1,srv2,srv3,srv4 ready on an address DNS does not give \(srv1 on 127\.0\.0\.1:8080\)/,
    );
    await haproxy.waitServing(keys(PODS));
    const line = agent.logs().find((l) => l['kind'] === 'restored-without-address');
    expect(line?.['msg']).toContain('"server-template srv 10 slot.invalid:9 init-addr last,127.0.0.1 check disabled"');
  });
});
