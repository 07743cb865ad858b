import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentArgs, LOOPBACK_PODS, TestAgent } from '../support/agent.ts';
import { podKeys, podsAt, SERVICE, TestBind } from '../support/bind.ts';
import { DnsServer, serviceReply, type Published } from '../support/dns-server.ts';
import { TestHaproxy } from '../support/haproxy.ts';
import { freePort } from '../support/procs.ts';

const INTERVAL = ['--interval', '300ms'];
/**
 * What a fault costs a lane before the agent gives up on it once: a hung socket 3 tries of
 * 3 s, a silent name 2 attempts of 2 s. A healthy lane beside it converges in about two
 * intervals (0.6 s); this bound is below the fault and far above the healthy lane.
 */
const BESIDE_A_FAULT_MS = 3_000;

describe('one fault stays in its own lane (Debian HAProxy)', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  it('a socket that accepts and never answers does not slow the healthy HAProxy (BIND 9)', async () => {
    const bind = new TestBind();
    await bind.start();
    cleanup.push(() => bind.stop());
    await bind.setPods(podsAt(0, 2));
    const haproxy = new TestHaproxy({ frontendPort: await freePort(), serverLines: ['server-template srv 6 127.0.0.1:9 disabled'] });
    await haproxy.start();
    cleanup.push(() => haproxy.stop());
    // A "HAProxy" that accepts the connection and never says a word.
    const dir = mkdtempSync(join(tmpdir(), 'hda-hung-'));
    const hung = net.createServer({ allowHalfOpen: true }, () => undefined);
    const held: net.Socket[] = [];
    hung.on('connection', (c) => held.push(c));
    await new Promise<void>((r) => hung.listen(join(dir, 'admin.sock'), r));
    cleanup.push(() => {
      for (const c of held) c.destroy();
      hung.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const agent = new TestAgent([
      ...agentArgs(join(dir, 'admin.sock'), `127.0.0.1:${String(bind.port)}`, `be_app=${SERVICE}`),
      ...LOOPBACK_PODS,
      '--socket',
      haproxy.socket,
      '--socket-timeout',
      '3s',
      ...INTERVAL,
    ]);
    cleanup.push(() => agent.stop());
    await haproxy.waitServing(podKeys(podsAt(0, 2)));
    for (const pods of [podsAt(2, 3), podsAt(0, 1)]) {
      await bind.setPods(pods);
      await haproxy.waitServing(podKeys(pods), { timeoutMs: BESIDE_A_FAULT_MS });
    }
    await agent.waitForLog('waiting for HAProxy', 15_000); // the fault was real: the hung socket timed out
    expect(agent.logs().find((l) => l.msg === 'waiting for HAProxy')?.['socket']).toBe(join(dir, 'admin.sock'));
  });

  it('a DNS name that never answers does not slow the healthy backend (in-process DNS: a silence on demand)', async () => {
    let live: Published[] = [];
    const LIVE = '_http._tcp.live.default.svc.cluster.local';
    const DEAD = '_http._tcp.dead.default.svc.cluster.local';
    const dns = new DnsServer((q, t) => ((q.questions?.[0]?.name ?? '').toLowerCase() === DEAD ? null : serviceReply(q, t, LIVE, live)));
    await dns.start();
    cleanup.push(() => dns.stop());
    const publish = (pods: readonly { address: string; port: number }[]): void => {
      live = pods.map((p) => ({ ...p, weight: 10, priority: 0, host: `${p.address.replaceAll('.', '-')}.live.default.svc.cluster.local` }));
    };
    const haproxy = new TestHaproxy({ frontendPort: await freePort(), serverLines: ['server-template srv 6 127.0.0.1:9 disabled'] });
    writeFileSync(haproxy.cfg, `${haproxy.config()}backend be_dead\n    server-template srv 2 127.0.0.1:9 disabled\n`);
    await haproxy.start();
    cleanup.push(() => haproxy.stop());
    publish(podsAt(0, 2));
    const agent = new TestAgent([
      ...agentArgs(haproxy.socket, `127.0.0.1:${String(dns.port)}`, `be_app=${LIVE}`),
      ...LOOPBACK_PODS,
      '--backend',
      `be_dead=${DEAD}`,
      ...INTERVAL,
    ]);
    cleanup.push(() => agent.stop());
    await haproxy.waitServing(podKeys(podsAt(0, 2)));
    for (const pods of [podsAt(2, 3), podsAt(0, 1)]) {
      publish(pods);
      await haproxy.waitServing(podKeys(pods), { timeoutMs: BESIDE_A_FAULT_MS });
    }
    expect(await haproxy.serving('be_dead')).toEqual([]);
    await agent.waitForLog('DNS failing, and no answer to hold yet', 10_000); // the fault was real
    expect(agent.logs().find((l) => l.msg === 'DNS failing, and no answer to hold yet')?.['backend']).toBe('be_dead');
  });
});
