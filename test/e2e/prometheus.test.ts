import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { TestPrometheus, type Alert } from '../monitoring/prometheus.ts';
import { RUNBOOK_BASE } from '../monitoring/prometheus-rule.ts';
import { ROOT } from '../monitoring/tools.ts';
import { agentArgs, LOOPBACK_PODS, TestAgent } from '../support/agent.ts';
import { podKeys, podsAt, TestBind } from '../support/bind.ts';
import { TestHaproxy } from '../support/haproxy.ts';
import { freePort, waitFor } from '../support/procs.ts';

const PODS = podsAt(0, 3);
const JOB = 'haproxy-dns-agent'; // a plain job's name the rules expect (docs/monitoring.md)

type Dashboard = { panels: { title: string; targets?: { expr: string }[]; panels?: Dashboard['panels'] }[] };

/** The dashboard's queries, with its variables as Grafana fills them when "All" is picked. */
function dashboardQueries(): { panel: string; expr: string }[] {
  const d = JSON.parse(readFileSync(`${ROOT}monitoring/dashboard.json`, 'utf8')) as Dashboard;
  return d.panels
    .flatMap((p) => [p, ...(p.panels ?? [])])
    .flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })))
    .map((q) => ({
      ...q,
      expr: q.expr
        .replaceAll('$__rate_interval', '15s')
        .replace(/\$(cluster|namespace)\b/g, '.*') // no such label here: All is .*
        .replace(/\$(job|instance|backend)\b/g, '.+'),
    }));
}

describe('the alert rules on a real Prometheus scraping a real agent (Debian Prometheus, HAProxy, BIND 9)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  it('fires nothing while all is well; DNS down, HAProxy gone and the agent gone each bring their alert, with its label', async () => {
    const bind = new TestBind();
    await bind.start();
    cleanup.push(() => bind.stop());
    await bind.setPods(PODS);
    const haproxy = new TestHaproxy({ frontendPort: await freePort(), serverLines: ['server-template srv 6 127.0.0.1:9 disabled'] });
    await haproxy.start();
    cleanup.push(() => haproxy.stop());
    const listen = `127.0.0.1:${String(await freePort())}`;
    const agent = new TestAgent([
      ...agentArgs(haproxy.socket, `127.0.0.1:${String(bind.port)}`, 'be_app=_http._tcp.web.default.svc.cluster.local'),
      ...LOOPBACK_PODS,
      '--interval',
      '200ms',
      '--dns-timeout',
      '200ms',
      '--drain',
      '0',
      '--hold',
      '3s',
      '--listen',
      listen,
    ]);
    cleanup.push(() => agent.stop());
    await haproxy.waitServing(podKeys(PODS));

    const prometheus = new TestPrometheus({ job: JOB, targets: [listen], ruleFiles: [`${ROOT}monitoring/alerts.rules.yml`] });
    await prometheus.start();
    cleanup.push(() => prometheus.stop());
    const value = async (expr: string): Promise<number | null> => {
      const [s] = (await prometheus.query(expr)).samples;
      return s === undefined ? null : Number(s.value[1]);
    };
    let alerts: Alert[] = [];
    const waitAlert = async (name: string, labels: Record<string, string>): Promise<Alert> => {
      await waitFor(
        () => `alert ${name} ${JSON.stringify(labels)} (alerts: ${JSON.stringify(alerts)})`,
        async () => {
          alerts = await prometheus.alerts();
          return alerts.some((a) => a.labels['alertname'] === name);
        },
        20_000,
      );
      const alert = alerts.find((a) => a.labels['alertname'] === name);
      expect(alert?.labels).toMatchObject({ ...labels, job: JOB, instance: listen });
      expect(['pending', 'firing']).toContain(alert?.state);
      return alert as Alert;
    };

    // All is well: once Prometheus has scraped the agent, no alert is pending or firing.
    await waitFor(
      'the agent scraped, DNS ok',
      async () => (await value(`haproxy_dns_agent_dns_status{job="${JOB}", status="ok"}`)) === 1,
      20_000,
    );
    await waitFor(
      () => `no alert (alerts: ${JSON.stringify(alerts)})`,
      async () => (alerts = await prometheus.alerts()).length === 0,
      20_000,
    );

    // The dashboard's queries are PromQL this Prometheus takes, over what this agent exports.
    for (const q of dashboardQueries()) {
      const r = await prometheus.query(q.expr);
      expect(r.status, `${q.panel}: ${q.expr}: ${r.error ?? ''}`).toBe('success');
    }
    // Its first question, endpoints in DNS against servers ready, reads 3 and 3.
    const meet = dashboardQueries().filter((q) => q.panel === 'Endpoints in DNS and servers ready');
    expect(meet).toHaveLength(2);
    for (const q of meet) expect(await value(q.expr), q.expr).toBe(PODS.length);

    await bind.stop();
    const dns = await waitAlert('HaproxyDnsAgentDnsFailing', { backend: 'be_app', severity: 'warning' });
    expect(dns.annotations['runbook_url']).toBe(`${RUNBOOK_BASE}#haproxydnsagentdnsfailing`);
    expect(dns.annotations['summary']).toBe(`DNS is failing for backend be_app on ${listen}`);
    // The answer's age passes this agent's --hold (3s, not the default): it says so, by the agent's own hold.
    expect(await value('haproxy_dns_agent_hold_seconds')).toBe(3);
    await waitAlert('HaproxyDnsAgentAnswerPastHold', { backend: 'be_app', severity: 'critical' });

    await haproxy.stop();
    await waitAlert('HaproxyDnsAgentHaproxyUnreachable', { socket: haproxy.socket, severity: 'warning' });

    await agent.stop();
    await waitAlert('HaproxyDnsAgentDown', { severity: 'warning' });
  });
});
