import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsServer, serviceReply } from '../support/dns-server.ts';
import { agentArgs, runAgent, TestAgent } from '../support/agent.ts';
import { FakeHaproxy } from '../support/fake-haproxy.ts';
import { fetchText } from '../support/http-client.ts';
import { freePort, waitFor } from '../support/procs.ts';

const SRV = '_http._tcp.web.default.svc.cluster.local';

describe('the built CLI', () => {
  const dns = new DnsServer((q, t) =>
    serviceReply(q, t, SRV, [
      { address: '10.1.43.243', port: 8080, weight: 33, priority: 0, host: '10-1-43-243.web.default.svc.cluster.local' },
      { address: '10.1.43.244', port: 8080, weight: 33, priority: 0, host: '10-1-43-244.web.default.svc.cluster.local' },
    ]),
  );
  beforeAll(async () => {
    await dns.start();
  });
  afterAll(async () => {
    await dns.stop();
  });

  it('prints its help and exits 0', async () => {
    const r = await runAgent(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--backend <name>[/<prefix>]=<record>');
    expect(r.stdout).toContain('HAPROXY_DNS_AGENT_DRY_RUN');
  });

  it('prints its version', async () => {
    const r = await runAgent(['--version']);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it.each([
    [['--backend', `be=${SRV}`, '--interval', 'fast'], {}, '--interval "fast": expected a duration'],
    [['--bogus'], {}, 'unknown flag --bogus'],
    [[], {}, 'no backend given'],
    [
      ['--backend', `be=${SRV}`],
      { HAPROXY_DNS_AGENT_ALLOW_NETS: '10.244.0.0/16' },
      'unknown variable HAPROXY_DNS_AGENT_ALLOW_NETS (did you mean HAPROXY_DNS_AGENT_ALLOW_NET?)',
    ],
    [
      ['--backend', `be=${SRV}`],
      { haproxy_dns_agent_dynamic_servers: 'true' },
      'unknown variable haproxy_dns_agent_dynamic_servers (did you mean HAPROXY_DNS_AGENT_DYNAMIC_SERVERS? variable names are upper case)',
    ],
    [
      [],
      { HAPROXY_DNS_AGENT_BACKEND: `be=${SRV}`, HAPROXY_DNS_AGENT_INTERVAL: '5' },
      'HAPROXY_DNS_AGENT_INTERVAL="5": expected a duration',
    ],
  ])('ends a usage error %j %j with one line and exit code 2, no stack trace, nothing started', async (argv, env, message) => {
    const r = await runAgent(argv, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`haproxy-dns-agent: ${message}`);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    expect(r.stdout).toBe('');
  });

  it('logs JSON lines that name their level, or with --log-format text one line an event for a person', async () => {
    const args = ['--once', ...agentArgs('/nonexistent/admin.sock', `127.0.0.1:${String(dns.port)}`, `be_app=${SRV}`)];
    const json = await runAgent(args);
    expect(json.stderr).toMatch(/^\{"level":"info","time":\d+,"component":"agent","version":"[^"]+","config":\{.*"msg":"starting"\}$/m);
    const text = await runAgent([...args, '--log-format', 'text']);
    expect(text.stderr).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {2}starting component=agent version=\S+ config=\S*"logFormat":"text"/m,
    );
    expect(text.stderr).not.toMatch(/^\{/m);
  });

  it('--once exits 1 naming a socket path that does not exist', async () => {
    const r = await runAgent(['--once', ...agentArgs('/nonexistent/admin.sock', `127.0.0.1:${String(dns.port)}`, `be_app=${SRV}`)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('haproxy-dns-agent: HAProxy socket /nonexistent/admin.sock: no such socket');
    // Said once, in the plain summary: not also as a JSON log line.
    expect(r.stderr.split('\n').filter((l) => l.includes('no such socket'))).toHaveLength(1);
  });

  it('--dry-run --once without HAProxy prints the endpoints DNS gave and exits 0', async () => {
    const r = await runAgent([
      '--dry-run',
      '--once',
      ...agentArgs('/nonexistent/admin.sock', `127.0.0.1:${String(dns.port)}`, `be_app=${SRV}`),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`# be_app <- ${SRV}: 2 endpoints`);
    expect(r.stdout).toContain('#   10.1.43.243:8080 weight 33 priority 0 ttl 5 target 10-1-43-243.web.default.svc.cluster.local');
    expect(r.stderr).toContain('could not read HAProxy');
  });

  it('--dry-run --once exits 1 when DNS did not answer either', async () => {
    const r = await runAgent([
      '--dry-run',
      '--once',
      ...agentArgs('/nonexistent/admin.sock', '127.0.0.1:9', `be_app=${SRV}`),
      '--dns-timeout',
      '200ms',
    ]);
    expect(r.code).toBe(1);
  });

  it("expands a short name through resolv.conf's search list and ndots", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hda-cli-'));
    const rc = join(dir, 'resolv.conf');
    writeFileSync(
      rc,
      `search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 127.0.0.1\noptions ndots:5 timeout:1\n`,
    );
    // resolv.conf cannot name a port, so --nameserver points at the test server; search and ndots come from the file.
    const r = await runAgent([
      '--dry-run',
      '--once',
      '--socket',
      '/nonexistent/admin.sock',
      '--backend',
      'be_app=_http._tcp.web',
      '--resolv-conf',
      rc,
      '--nameserver',
      `127.0.0.1:${String(dns.port)}`,
    ]);
    expect(r.stdout).toContain(`# be_app <- _http._tcp.web: 2 endpoints`);
  });

  it('exits 0 on SIGTERM, leaving HAProxy as it is', async () => {
    const agent = new TestAgent([
      ...agentArgs('/nonexistent/admin.sock', `127.0.0.1:${String(dns.port)}`, `be_app=${SRV}`),
      '--interval',
      '200ms',
    ]);
    await agent.waitForLog('waiting for HAProxy');
    agent.proc.child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => agent.proc.child.once('exit', r));
    expect(code).toBe(0);
    expect(agent.count('stopped; HAProxy left as it is')).toBe(1);
    expect(agent.count('waiting for HAProxy')).toBe(1);
  });
});

describe('the built CLI with --listen', () => {
  const dns = new DnsServer((q, t) =>
    serviceReply(q, t, SRV, [
      { address: '10.1.43.243', port: 8080, weight: 33, priority: 0, host: '10-1-43-243.web.default.svc.cluster.local' },
    ]),
  );
  const haproxy = new FakeHaproxy();
  beforeAll(async () => {
    await dns.start();
    await haproxy.start();
  });
  afterAll(async () => {
    await dns.stop();
    await haproxy.stop();
  });

  /** Runs the agent with --listen on a free port and `args`, hands `check` its base URL, stops it. */
  const withListening = async (args: readonly string[], check: (base: string, agent: TestAgent) => Promise<void>): Promise<void> => {
    const port = await freePort();
    const agent = new TestAgent([...args, '--interval', '200ms', '--listen', `127.0.0.1:${String(port)}`]);
    try {
      await check(`http://127.0.0.1:${String(port)}`, agent);
    } finally {
      await agent.stop();
    }
  };

  it('serves /healthz, /readyz and Prometheus /metrics', async () => {
    await withListening(agentArgs(haproxy.socket, `127.0.0.1:${String(dns.port)}`, `be_app=${SRV}`), async (base) => {
      await waitFor('the agent to be ready', async () => (await fetchText(`${base}/readyz`)).status === 200);
      expect(await fetchText(`${base}/healthz`)).toEqual({ status: 200, body: 'ok\n' });
      const metrics = await fetchText(`${base}/metrics`);
      expect(metrics.body).toMatch(/^haproxy_dns_agent_passes_total\{lane="dns",name="be_app",result="ok"\} \d+$/m);
      expect(metrics.body).toContain('process_resident_memory_bytes');
      expect((await fetchText(`${base}/nope`)).status).toBe(404);
    });
  });

  it('is not ready before DNS ever answered', async () => {
    await withListening([...agentArgs(haproxy.socket, '127.0.0.1:9', `be_app=${SRV}`), '--dns-timeout', '100ms'], async (base, agent) => {
      await waitFor('the health endpoint', async () => (await fetchText(`${base}/healthz`)).status === 200);
      await agent.waitForLog('DNS failing, and no answer to hold yet');
      // Once the socket has been read, the body names its HAProxy and what it lacks.
      await waitFor('the socket read', async () => (await fetchText(`${base}/readyz`)).body.includes('has not had backend'));
      expect(await fetchText(`${base}/readyz`)).toEqual({
        status: 503,
        body: expect.stringMatching(
          /^not ready: socket \S+: HAProxy \(pid \d+\) has not had backend be_app \(no DNS answer yet: unreachable for \d+s\) applied yet\nbackend be_app: DNS failing \(unreachable for \d+s\); no answer to hold; HAProxy left as it is\n$/,
        ) as unknown,
      });
      expect(agent.count('DNS failing: holding the last good answer')).toBe(0);
    });
  });

  it('is not ready while HAProxy cannot be reached, though DNS answers', async () => {
    await withListening(agentArgs('/nonexistent/admin.sock', `127.0.0.1:${String(dns.port)}`, `be_app=${SRV}`), async (base, agent) => {
      await agent.waitForLog('waiting for HAProxy');
      expect(await fetchText(`${base}/readyz`)).toEqual({
        status: 503,
        body: 'not ready: HAProxy socket /nonexistent/admin.sock: no such socket (is HAProxy running, with a `stats socket` line at this path?)\nbackend be_app: DNS ok, 1 in force\n',
      });
    });
  });
});
