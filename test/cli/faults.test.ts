import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentArgs, runAgent, TestAgent } from '../support/agent.ts';
import { DnsServer, serviceReply } from '../support/dns-server.ts';
import { FakeHaproxy } from '../support/fake-haproxy.ts';
import { fetchText } from '../support/http-client.ts';
import { freePort, waitFor } from '../support/procs.ts';

const SRV = '_http._tcp.web.default.svc.cluster.local';
const POD = { address: '10.1.43.243', port: 8080, weight: 33, priority: 0, host: '10-1-43-243.web.default.svc.cluster.local' };

describe('the built CLI under faults that last', () => {
  let answering = true;
  const dns = new DnsServer((q, t) => (answering ? serviceReply(q, t, SRV, [POD]) : null));
  const haproxy = new FakeHaproxy();
  beforeAll(async () => {
    await dns.start();
    await haproxy.start();
  });
  afterAll(async () => {
    await dns.stop();
    await haproxy.stop();
  });

  it('lives through SIGHUP and reads resolv.conf again: a new search list takes effect', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hda-hup-'));
    const rc = join(dir, 'resolv.conf');
    writeFileSync(rc, 'search wrong.example\nnameserver 127.0.0.1\noptions ndots:5\n');
    const agent = new TestAgent([
      '--socket',
      haproxy.socket,
      '--backend',
      'be_app=_http._tcp.web',
      '--nameserver',
      `127.0.0.1:${String(dns.port)}`,
      '--resolv-conf',
      rc,
      '--interval',
      '200ms',
    ]);
    try {
      await agent.waitForLog('DNS failing, and no answer to hold yet');
      writeFileSync(rc, 'search default.svc.cluster.local\nnameserver 127.0.0.1\noptions ndots:5\n');
      agent.proc.child.kill('SIGHUP');
      await agent.waitForLog('SIGHUP: read resolv.conf again');
      await waitFor('the pod in HAProxy', () => haproxy.ready().includes('10.1.43.243:8080'));
      expect(agent.proc.child.exitCode).toBeNull();
    } finally {
      await agent.stop();
    }
  });

  it('is live (/healthz), and stays ready once the hold expired while every server drains, saying so in the body', async () => {
    const port = await freePort();
    answering = true;
    const agent = new TestAgent([
      ...agentArgs(haproxy.socket, `127.0.0.1:${String(dns.port)}`, `be_app=${SRV}`),
      '--interval',
      '200ms',
      '--dns-timeout',
      '100ms',
      '--hold',
      '1s',
      '--drain',
      '1m',
      '--listen',
      `127.0.0.1:${String(port)}`,
    ]);
    const base = `http://127.0.0.1:${String(port)}`;
    try {
      await waitFor('ready', async () => (await fetchText(`${base}/readyz`).catch(() => ({ status: 0 }))).status === 200);
      expect(await fetchText(`${base}/healthz`)).toEqual({ status: 200, body: 'ok\n' });
      answering = false;
      await agent.waitForLog('DNS hold expired: the servers leave');
      await waitFor('the server draining', () => haproxy.servers.some((s) => (s.admin & 0x18) !== 0));
      // A load balancer out of service would refuse connections; HAProxy's own answer is better.
      const ready = await fetchText(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(ready.body).toMatch(/^ready\nbackend be_app: DNS failing \(timeout for \d+s\); answer \d+s old, past --hold; 0 in force\n$/);
      expect((await fetchText(`${base}/healthz`)).status).toBe(200);
    } finally {
      answering = true;
      await agent.stop();
    }
  });

  it('goes on without a corrupt state file, saying so once, and writes a good one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hda-statefile-'));
    const path = join(dir, 'agent.state');
    writeFileSync(path, '{"version":1,"backends":{"be_app":');
    const r = await runAgent([
      '--once',
      ...agentArgs(haproxy.socket, `127.0.0.1:${String(dns.port)}`, `be_app=${SRV}`),
      '--state-file',
      path,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split('\n').filter((l) => l.includes('state file: going on without it'))).toHaveLength(1);
    expect(r.stderr).toContain('not JSON (corrupt or cut short)');
    const saved = JSON.parse(readFileSync(path, 'utf8')) as { backends: Record<string, { endpoints: unknown[] }> };
    expect(saved.backends['be_app']?.endpoints).toHaveLength(1);
  });
});
