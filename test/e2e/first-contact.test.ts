import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentArgs, runAgent } from '../support/agent.ts';
import { DnsServer, serviceReply } from '../support/dns-server.ts';
import { TestHaproxy } from '../support/haproxy.ts';
import { freePort } from '../support/procs.ts';

const SRV = '_http._tcp.web.default.svc.cluster.local';

describe('what a user gets wrong at first contact, said plainly (Debian HAProxy)', () => {
  const dns = new DnsServer((q, t) =>
    serviceReply(q, t, SRV, [
      { address: '10.1.43.243', port: 8080, weight: 33, priority: 0, host: '10-1-43-243.web.default.svc.cluster.local' },
    ]),
  );
  const dir = mkdtempSync(join(tmpdir(), 'hda-sockets-'));
  const userSocket = join(dir, 'user.sock');
  const masterSocket = join(dir, 'master.sock');
  let haproxy: TestHaproxy;
  beforeAll(async () => {
    await dns.start();
    haproxy = new TestHaproxy({
      frontendPort: await freePort(),
      serverLines: ['server-template srv 4 127.0.0.1:9 disabled'],
      globalLines: [`stats socket ${userSocket} mode 660 level user`],
      masterSocket,
    });
    await haproxy.start();
  });
  afterAll(async () => {
    await haproxy.stop();
    await dns.stop();
  });

  it('a dry run against a level-user socket exits 1 on "not level admin", as the real run would, with no false warning', async () => {
    const r = await runAgent(['--dry-run', '--once', ...agentArgs(userSocket, `127.0.0.1:${String(dns.port)}`, `be_app=${SRV}`)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^haproxy-dns-agent: HAProxy socket \S+ is not "level admin".*expected "stats socket \.\.\. level admin"/m);
    expect(r.stderr).not.toContain('sticky sessions will not follow pods');
    expect(r.stdout).toBe('');
  });

  it('names the master CLI and what to use instead, in one line, and exits 1', async () => {
    const r = await runAgent(['--once', ...agentArgs(masterSocket, `127.0.0.1:${String(dns.port)}`, `be_app=${SRV}`)]);
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('haproxy-dns-agent:'));
    expect(lines).toEqual([
      `haproxy-dns-agent: HAProxy socket ${masterSocket} is the master CLI (haproxy -W -S), which answers neither "show info" nor "set server": expected the worker's stats socket ("stats socket <path> level admin" in haproxy.cfg)`,
    ]);
  });
});
