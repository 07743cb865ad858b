import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.ts';
import { buildAgent } from '../../src/agent/compose.ts';
import { parseConfig } from '../../src/cli/config.ts';
import { findingText } from '../../src/core/findings.ts';
import { HaproxyProtocolError } from '../../src/errors.ts';
import { AgentMetrics } from '../../src/observability/metrics.ts';
import { FakeHaproxy } from '../support/fake-haproxy.ts';
import { captureLogs, type LogLine } from '../support/logs.ts';
import { FaultDns, published } from '../support/fault-dns.ts';

const SRV = '_http._tcp.web.default.svc.cluster.local';

type Harness = {
  agent: Agent;
  logs: () => LogLine[];
  count: (msg: string) => number;
  clock: { now: number };
};

function harness(sockets: readonly string[], dnsPort: number, extra: readonly string[] = []): Harness {
  const { log, lines, count } = captureLogs();
  const clock = { now: 1_000_000 };
  const parsed = parseConfig(
    [
      ...sockets.flatMap((s) => ['--socket', s]),
      '--backend',
      `be_app=${SRV}`,
      '--nameserver',
      `127.0.0.1:${String(dnsPort)}`,
      '--allow-net',
      '127.0.0.0/8',
      '--dns-timeout',
      '100ms',
      '--socket-timeout',
      '300ms',
      ...extra,
    ],
    {},
  );
  if (parsed.config === null) throw new Error('no config');
  const { agent } = buildAgent(parsed.config, {
    log,
    out: () => undefined,
    resolvConf: null,
    metrics: null,
    now: () => clock.now,
  });
  return { agent, logs: lines, count, clock };
}

describe('the agent against a fake HAProxy 1.8.30 and a fault-injecting DNS server', () => {
  let dns: FaultDns;
  let haproxy: FakeHaproxy;

  beforeEach(async () => {
    dns = new FaultDns(SRV);
    dns.endpoints = published(3);
    await dns.start();
    haproxy = new FakeHaproxy();
    await haproxy.start();
  });
  afterEach(async () => {
    await dns.stop();
    await haproxy.stop();
  });

  it.each(['silent', 'servfail', 'refused', 'garbage', 'wrong-id', 'wrong-question'] as const)(
    'keeps the servers untouched while DNS is %s, and logs it once',
    async (fault) => {
      const h = harness([haproxy.socket], dns.port);
      await h.agent.pass();
      const sent = haproxy.sets().length;
      dns.fault = fault;
      for (let i = 0; i < 3; i++) {
        h.clock.now += 60_000;
        const r = await h.agent.pass();
        expect(r.ok).toBe(false);
      }
      expect(haproxy.sets().length).toBe(sent);
      expect(haproxy.ready()).toEqual(['127.0.2.1:8080', '127.0.2.2:8080', '127.0.2.3:8080']);
      expect(h.count('DNS failing: holding the last good answer')).toBe(1);
      dns.fault = 'none';
      expect((await h.agent.pass()).ok).toBe(true);
      expect(h.count('DNS answering again')).toBe(1);
    },
  );

  it.each(['nxdomain', 'nodata'] as const)(
    'keeps the servers through %s for --hold-nx from the first such answer, then drains them',
    async (fault) => {
      const h = harness([haproxy.socket], dns.port, ['--hold-nx', '30s']);
      await h.agent.pass();
      const sent = haproxy.sets().length;
      dns.fault = fault;
      h.clock.now += 60_000; // the first such answer: --hold-nx counts from here, not from the last good answer
      await h.agent.pass();
      h.clock.now += 29_999;
      await h.agent.pass();
      expect(haproxy.sets().length).toBe(sent);
      h.clock.now += 1;
      await h.agent.pass();
      await h.agent.pass();
      expect(haproxy.sets().slice(sent)).toEqual([
        'set server be_app/srv1 state drain',
        'set server be_app/srv2 state drain',
        'set server be_app/srv3 state drain',
      ]);
      expect(h.count('DNS hold expired: the servers leave')).toBe(1);
    },
  );

  it('keeps the servers through a DNS outage shorter than --hold, and lets them go after it', async () => {
    const h = harness([haproxy.socket], dns.port, ['--hold', '10m', '--drain', '0']);
    await h.agent.pass();
    dns.fault = 'silent';
    h.clock.now += 599_000;
    await h.agent.pass();
    expect(haproxy.ready()).toHaveLength(3);
    h.clock.now += 1_000;
    await h.agent.pass();
    expect(haproxy.ready()).toHaveLength(0);
  });

  it('survives a reply that lacks its closing empty line, and repairs on the next pass', async () => {
    const h = harness([haproxy.socket], dns.port);
    haproxy.faults.set('set server be_app/srv2 addr', 'no-closing-empty-line');
    const r = await h.agent.pass();
    expect(r.ok).toBe(false);
    expect(r.findings.map(findingText).join('\n')).toContain('reply framing lost');
    haproxy.faults.clear();
    expect((await h.agent.pass()).ok).toBe(true);
    expect(haproxy.ready()).toHaveLength(3);
  });

  it('treats a connection closed mid-reply as transient: nothing sent, retried', async () => {
    const h = harness([haproxy.socket], dns.port);
    haproxy.faults.set('show servers state', 'close-mid-reply');
    const r = await h.agent.pass();
    expect(r.ok).toBe(false);
    expect(haproxy.sets()).toEqual([]);
    haproxy.faults.clear();
    expect((await h.agent.pass()).ok).toBe(true);
  });

  it('gives up on a reply that never comes after --socket-timeout', async () => {
    const h = harness([haproxy.socket], dns.port);
    haproxy.faults.set('show info', 'hang');
    const r = await h.agent.pass();
    expect(r.findings.map(findingText).join('\n')).toMatch(/no complete reply within 300ms/);
    expect(h.count('waiting for HAProxy')).toBe(1);
  });

  it('refuses a show servers state layout it does not know', async () => {
    haproxy.extraStateColumns = 1;
    const h = harness([haproxy.socket], dns.port);
    await expect(h.agent.pass()).rejects.toThrow(HaproxyProtocolError);
  });

  it('says a malformed row of show servers state, changes nothing, and goes on; the next good read is applied', async () => {
    const h = harness([haproxy.socket], dns.port);
    haproxy.extraStateRow = '3 be_app x srv9 127.0.0.1 2 0 1 1 1 1 0 0 6 0 0 0 - 8080 -'; // srv_id "x"
    const r = await h.agent.pass();
    expect(r.findings.map((f) => f.kind)).toEqual(['haproxy-unreadable']);
    expect(haproxy.sets()).toEqual([]);
    haproxy.extraStateRow = '3 be_app 9 srv9 127.0.0.1'; // too few columns
    expect((await h.agent.pass()).findings.map((f) => findingText(f))).toEqual([
      'HAProxy socket ' +
        haproxy.socket +
        ': a reply could not be read (show servers state: row 6 has 5 columns, the header 20); nothing was changed, the next run reads again',
    ]);
    haproxy.extraStateRow = null;
    expect((await h.agent.pass()).ok).toBe(true);
    expect(haproxy.ready()).toHaveLength(3);
  });

  it('fills every socket, and one that hangs never blocks the others', async () => {
    const second = new FakeHaproxy();
    await second.start();
    second.faults.set('show info', 'hang');
    const h = harness([haproxy.socket, second.socket], dns.port);
    const r = await h.agent.pass();
    expect(r.ok).toBe(false);
    expect(haproxy.ready()).toHaveLength(3);
    second.faults.clear();
    expect((await h.agent.pass()).ok).toBe(true);
    expect(second.ready()).toEqual(haproxy.ready());
    await second.stop();
  });

  it('manages only the servers of its prefix, and leaves a static server alone', async () => {
    Object.assign(haproxy.servers[0] ?? {}, { name: 'static1', address: '10.9.9.9', port: 80, admin: 0, opState: 2 });
    const parsed = parseConfig(
      [
        '--socket',
        haproxy.socket,
        '--backend',
        `be_app/srv=${SRV}`,
        '--nameserver',
        `127.0.0.1:${String(dns.port)}`,
        '--allow-net',
        '127.0.0.0/8',
      ],
      {},
    ).config;
    if (parsed === null) throw new Error('no config');
    const { agent } = buildAgent(parsed, {
      log: pino({ level: 'silent' }),
      out: () => undefined,
      resolvConf: null,
      metrics: null,
      now: Date.now,
    });
    expect((await agent.pass()).ok).toBe(true);
    expect(haproxy.sets().filter((c) => c.includes('/static1 '))).toEqual([]);
    expect(haproxy.servers[0]).toMatchObject({ name: 'static1', address: '10.9.9.9', port: 80 });
    expect(haproxy.ready()).toEqual(['10.9.9.9:80', '127.0.2.1:8080', '127.0.2.2:8080', '127.0.2.3:8080']);
  });

  it('exports the metrics docs/monitoring.md lists', async () => {
    const metrics = new AgentMetrics(false);
    const parsed = parseConfig(
      [
        '--socket',
        haproxy.socket,
        '--backend',
        `be_app=${SRV}`,
        '--nameserver',
        `127.0.0.1:${String(dns.port)}`,
        '--allow-net',
        '127.0.0.0/8',
      ],
      {},
    ).config;
    if (parsed === null) throw new Error('no config');
    const { agent } = buildAgent(parsed, {
      log: pino({ level: 'silent' }),
      out: () => undefined,
      resolvConf: null,
      metrics,
      now: Date.now,
    });
    await agent.pass();
    await agent.pass();
    const text = await metrics.registry.metrics();
    expect(text).toContain('haproxy_dns_agent_passes_total{lane="dns",name="be_app",result="ok"} 2');
    expect(text).toMatch(/haproxy_dns_agent_dns_queries_total\{nameserver="127\.0\.0\.1:\d+",transport="udp",result="ok"\} 2/);
    expect(text).toContain('haproxy_dns_agent_endpoints{backend="be_app"} 3');
    expect(text).toMatch(/haproxy_dns_agent_servers\{backend="be_app",socket="[^"]+",state="ready",kind="slot"\} 3/);
    expect(text).toMatch(/haproxy_dns_agent_servers\{backend="be_app",socket="[^"]+",state="free",kind="slot"\} 2/);
    expect(text).toMatch(/haproxy_dns_agent_servers\{backend="be_app",socket="[^"]+",state="ready",kind="added"\} 0/);
    expect(text).toContain('haproxy_dns_agent_endpoints_without_slot{backend="be_app"} 0');
    expect(text).toMatch(/haproxy_dns_agent_runtime_commands_total\{socket="[^"]+",result="ok"\} 9/);
    expect(text).toMatch(/haproxy_dns_agent_update_latency_seconds_count\{backend="be_app",socket="[^"]+"\} 1/);
    expect(text).toContain('haproxy_dns_agent_dns_answer_age_seconds{backend="be_app"}');
    expect(text).toContain('haproxy_dns_agent_dns_status{backend="be_app",status="ok"} 1');
    expect(text).toContain('haproxy_dns_agent_dns_status{backend="be_app",status="failing"} 0');
    expect(text).toContain('haproxy_dns_agent_serial_distrusted{backend="be_app"} 0');
    expect(text).toMatch(/haproxy_dns_agent_haproxy_up\{socket="[^"]+"\} 1/);
    // Counters an alert takes increase() of exist at 0 from the lane's first run.
    expect(text).toMatch(/haproxy_dns_agent_runtime_commands_total\{socket="[^"]+",result="rejected"\} 0/);
    expect(text).toContain('haproxy_dns_agent_passes_total{lane="dns",name="be_app",result="failed"} 0');
    // The table of docs/monitoring.md names exactly the metrics the agent registers.
    const doc = readFileSync(new URL('../../docs/monitoring.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `(haproxy_dns_agent_\w+)` \|/gm)].map((m) => m[1]).sort();
    const registered = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name).sort();
    expect(documented).toEqual(registered);
  });

  it('says how to declare slots when some have no address, and fills the others', async () => {
    for (const srv of haproxy.servers.slice(3)) Object.assign(srv, { address: '-', port: 0, admin: 0x21 });
    const h = harness([haproxy.socket], dns.port);
    await h.agent.pass();
    await h.agent.pass();
    const errors = h.logs().filter((l) => String(l.msg).includes('have no IP address'));
    expect(errors).toHaveLength(1);
    expect(String(errors[0]?.msg)).toContain('server-template srv 10 127.0.0.1:9 check disabled');
    expect(haproxy.ready()).toEqual(['127.0.2.1:8080', '127.0.2.2:8080', '127.0.2.3:8080']);
  });

  it('stops when no slot has an address, naming the fix', async () => {
    for (const srv of haproxy.servers) Object.assign(srv, { address: '-', port: 0, admin: 0x21 });
    const h = harness([haproxy.socket], dns.port);
    await expect(h.agent.pass()).rejects.toThrow(
      /have no IP address.*declare the slots with an address.*an IP literal.*or a name and the address to start from.*"server-template srv 10 slot\.invalid:9 init-addr last,127\.0\.0\.1 check disabled" \(not "init-addr none"; HAProxy 3\.5-dev .* default-server line precedes them/,
    );
  });

  it('still pushes in full after a restart when the first pass after it was cut short', async () => {
    const h = harness([haproxy.socket], dns.port);
    await h.agent.pass();
    haproxy.pid += 1;
    // The server-state-file case: a slot back "ready" on its placeholder address.
    Object.assign(haproxy.servers[0] ?? {}, { address: '127.0.0.1', port: 8080, admin: 4, weight: 256, opState: 2 });
    haproxy.faults.set('set server be_app/srv1 weight', 'hang'); // the level-admin check times out
    expect((await h.agent.pass()).ok).toBe(false);
    haproxy.faults.clear();
    expect((await h.agent.pass()).ok).toBe(true);
    expect(haproxy.servers[0]).toMatchObject({ address: '127.0.2.1', port: 8080 });
    expect(haproxy.ready()).toEqual(['127.0.2.1:8080', '127.0.2.2:8080', '127.0.2.3:8080']);
    expect(h.logs().filter((l) => l.msg === 'server change' && l['reason'] === 'resync after HAProxy reload')).toHaveLength(2);
  });
});
