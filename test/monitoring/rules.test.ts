import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { RULES_FILE, RUNBOOK_BASE, RUNBOOKS_DOC } from './prometheus-rule.ts';
import { exportedSeries, metricNames } from './promql.ts';
import { anchorsOf, readRepoFile, ROOT, runTool } from './tools.ts';

type Rule = {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};
type AlertCheck = { eval_time: string; alertname: string; exp_alerts: { exp_labels: Record<string, string> }[] };
type UnitTest = { name: string; input_series?: { series: string }[]; alert_rule_test?: AlertCheck[] };

const rules = (parse(readRepoFile(RULES_FILE)) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const alerts = rules.filter((r): r is Rule & { alert: string } => r.alert !== undefined);
const testFiles = readdirSync(`${ROOT}monitoring`)
  .filter((f) => f.endsWith('.test.yml'))
  .map((f) => `monitoring/${f}`);
const unitTests = testFiles.flatMap((f) => (parse(readRepoFile(f)) as { tests: UnitTest[] }).tests);

/** "90s", "5m", "1h30m" in seconds. */
const seconds = (d: string): number =>
  [...d.matchAll(/(\d+)(ms|s|m|h|d)/g)].reduce(
    (sum, [, n, unit]) => sum + Number(n) * ({ ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 }[unit ?? 's'] ?? 1),
    0,
  );

describe(RULES_FILE, () => {
  it('is a valid rules file (promtool check rules)', () => {
    const r = runTool('promtool', ['check', 'rules', RULES_FILE]);
    expect(r.ok, r.output).toBe(true);
    expect(r.output).toContain('SUCCESS');
  });

  it('passes its unit tests (promtool test rules)', () => {
    expect(testFiles).toContain('monitoring/alerts.test.yml');
    const r = runTool('promtool', ['test', 'rules', ...testFiles]);
    expect(r.ok, r.output).toBe(true);
  });

  it(`is loaded by the prometheus.yml of ${RUNBOOKS_DOC} (promtool check config)`, () => {
    const monitoring = /^## Plain Prometheus$([\s\S]*?)^## /m.exec(readRepoFile(RUNBOOKS_DOC))?.[1] ?? '';
    const config = [...monitoring.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').find((y) => y.includes('scrape_configs:'));
    expect(config).toContain('job_name: haproxy-dns-agent');
    const dir = mkdtempSync(join(tmpdir(), 'hda-prometheus-config-'));
    try {
      writeFileSync(join(dir, 'prometheus.yml'), config ?? '');
      copyFileSync(`${ROOT}${RULES_FILE}`, join(dir, 'haproxy-dns-agent.rules.yml'));
      const r = runTool('promtool', ['check', 'config', join(dir, 'prometheus.yml')]);
      expect(r.ok, r.output).toBe(true);
      expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails, naming the package to install, when promtool is missing', () => {
    expect(() => runTool('promtool', ['--version'], { ...process.env, PATH: '/nonexistent' })).toThrow(
      /install Debian's prometheus package/,
    );
  });

  it('reads only metrics the agent exports', async () => {
    const exported = await exportedSeries();
    for (const r of rules) {
      const names = metricNames(r.expr);
      expect(names.length, `${r.alert ?? r.record ?? r.expr} reads a metric`).toBeGreaterThan(0);
      for (const n of names) expect(exported.has(n), `${n} in ${r.alert ?? ''}`).toBe(true);
    }
  });

  it(`gives every alert a severity, a summary naming the pod, a description and an absolute runbook link to its section of ${RUNBOOKS_DOC}`, () => {
    const anchors = anchorsOf(readRepoFile(RUNBOOKS_DOC));
    expect(RUNBOOK_BASE).toMatch(/^https:\/\//);
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    for (const a of alerts) {
      expect(a.alert).toMatch(/^HaproxyDnsAgent[A-Z]\w+$/);
      expect(['critical', 'warning', 'info'], a.alert).toContain(a.labels?.['severity']);
      expect(a.annotations?.['summary'], a.alert).toBeTruthy();
      expect(a.annotations?.['description'], a.alert).toBeTruthy();
      expect(a.annotations?.['runbook_url'], a.alert).toBe(`${RUNBOOK_BASE}#${a.alert.toLowerCase()}`);
      expect(anchors.has(a.alert.toLowerCase()), `${RUNBOOKS_DOC} heading for ${a.alert}`).toBe(true);
      // The agent by its pod where the target has one, else by its address.
      if (a.annotations?.['summary']?.includes('$labels.instance') === true)
        expect(a.annotations['summary'], a.alert).toContain(
          '{{ with $labels.pod }}{{ $labels.namespace }}/{{ . }}{{ else }}{{ $labels.instance }}{{ end }}',
        );
    }
  });

  it('has, for each alert, a unit test where it fires and, before that, one where it does not yet', () => {
    for (const a of alerts) {
      const firing = unitTests.filter((t) => t.alert_rule_test?.some((c) => c.alertname === a.alert && c.exp_alerts.length > 0));
      expect(firing.length, `${a.alert} fires in a test`).toBeGreaterThan(0);
      const before = firing.some((t) => {
        const checks = t.alert_rule_test?.filter((c) => c.alertname === a.alert) ?? [];
        const first = Math.min(...checks.filter((c) => c.exp_alerts.length > 0).map((c) => seconds(c.eval_time)));
        return checks.some((c) => c.exp_alerts.length === 0 && seconds(c.eval_time) < first);
      });
      expect(before, `${a.alert} is checked not to fire before its for (${a.for ?? 'none'})`).toBe(true);
    }
  });

  it('carries the backend or the socket of the series an alert is about', () => {
    for (const a of alerts) {
      if (metricNames(a.expr).includes('up')) continue; // about the agent itself: job and instance
      const labels = unitTests.flatMap((t) =>
        (t.alert_rule_test ?? []).filter((c) => c.alertname === a.alert).flatMap((c) => c.exp_alerts.map((e) => e.exp_labels)),
      );
      expect(labels.length, a.alert).toBeGreaterThan(0);
      for (const l of labels) expect('backend' in l || 'socket' in l, `${a.alert}: ${JSON.stringify(l)}`).toBe(true);
    }
  });

  it('has a healthy agent for which no alert fires', () => {
    const healthy = unitTests.find((t) => t.name === 'a healthy agent');
    const quiet = new Set(healthy?.alert_rule_test?.filter((c) => c.exp_alerts.length === 0).map((c) => c.alertname));
    expect([...quiet].sort()).toEqual(alerts.map((a) => a.alert).sort());
    // ... with a series of every metric the alerts read: quiet because healthy, not because empty.
    const given = new Set(healthy?.input_series?.map((s) => /^[\w:]+/.exec(s.series)?.[0]));
    for (const n of new Set(alerts.flatMap((a) => metricNames(a.expr)))) expect(given.has(n), n).toBe(true);
  });
});
