import { describe, expect, it } from 'vitest';
import { exportedSeries, metricNames } from './promql.ts';
import { readRepoFile } from './tools.ts';

type Target = { refId: string; expr: string; datasource?: { type: string; uid: string } };
type Panel = {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
  panels?: Panel[];
};
type Variable = { name: string; type: string; query: string | { query: string }; datasource?: { uid: string }; allValue?: string };
type Dashboard = { schemaVersion: number; uid: string; panels: Panel[]; templating: { list: Variable[] } };

const dashboard = JSON.parse(readRepoFile('monitoring/dashboard.json')) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
const variable = (name: string): Variable | undefined => dashboard.templating.list.find((v) => v.name === name);
const queryOf = (v: Variable | undefined): string => (typeof v?.query === 'string' ? v.query : (v?.query.query ?? ''));

describe('metricNames (the PromQL reader the name checks use)', () => {
  it('finds the metrics, and no function, label, keyword, number or variable', () => {
    expect(
      metricNames('histogram_quantile(0.99, sum by (backend, le) (rate(a_bucket{backend=~"$backend", x="y{z}"}[$__rate_interval])))'),
    ).toEqual(['a_bucket']);
    expect(metricNames('(a > 0) unless ignoring(reason, status) (b{status="refused"} == bool 1)')).toEqual(['a', 'b']);
    expect(metricNames('sum(rate(c[5m] offset 1h)) / on (x) group_left (y) d * 1e3 + Inf')).toEqual(['c', 'd']);
    expect(metricNames('absent(up{job="j"})')).toEqual(['up']);
    expect(metricNames('max_over_time(e[10m:1m]) or vector(0)')).toEqual(['e']);
  });
});

describe('monitoring/dashboard.json', () => {
  it('reads only metrics the agent exports', async () => {
    const exported = await exportedSeries();
    expect(queries.length).toBeGreaterThanOrEqual(10);
    for (const q of queries) {
      const names = metricNames(q.expr);
      expect(names.length, `${q.panel}: ${q.expr}`).toBeGreaterThan(0);
      for (const n of names) expect(exported.has(n), `${q.panel}: ${n}`).toBe(true);
    }
    for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
      const selector = /^label_values\((.+),\s*\w+\)$/.exec(queryOf(v))?.[1] ?? '';
      expect(
        metricNames(selector).every((n) => exported.has(n)),
        `variable ${v.name}: ${queryOf(v)}`,
      ).toBe(true);
    }
  });

  it("answers an operator's questions: endpoints against servers ready, DNS results, latency, drains, refusals, passes, memory, CPU, status, HAProxy", () => {
    const used = new Set(queries.flatMap((q) => metricNames(q.expr)));
    for (const n of [
      'haproxy_dns_agent_endpoints',
      'haproxy_dns_agent_servers',
      'haproxy_dns_agent_dns_queries_total',
      'haproxy_dns_agent_update_latency_seconds_bucket',
      'haproxy_dns_agent_refused_endpoints',
      'haproxy_dns_agent_endpoints_without_slot',
      'haproxy_dns_agent_passes_total',
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
      'haproxy_dns_agent_dns_status',
      'haproxy_dns_agent_dns_answer_age_seconds',
      'haproxy_dns_agent_haproxy_up',
    ])
      expect(used.has(n), n).toBe(true);
    const exprs = queries.map((q) => q.expr);
    expect(exprs.some((e) => e.includes('state="ready"'))).toBe(true);
    expect(exprs.some((e) => e.includes('state="drain"'))).toBe(true);
    expect(exprs.some((e) => /histogram_quantile\(0\.99, .*update_latency_seconds_bucket/.test(e))).toBe(true);
  });

  it('asks the data source the user picks, by cluster and namespace, for the backends the agent names', () => {
    expect(dashboard.schemaVersion).toBe(39);
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'cluster', 'namespace', 'job', 'instance', 'backend']);
    expect(variable('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(variable('backend')?.type).toBe('query');
    expect(queryOf(variable('backend'))).toMatch(/^label_values\(haproxy_dns_agent_endpoints\{.*\}, backend\)$/);
    // All, where Prometheus has no such label (no cluster label without Thanos or an external label), matches every series.
    for (const name of ['cluster', 'namespace']) expect(variable(name), name).toMatchObject({ type: 'query', allValue: '.*' });
    expect(queryOf(variable('namespace'))).toBe('label_values(haproxy_dns_agent_build_info{cluster=~"$cluster"}, namespace)');
    for (const q of queries) expect(q.expr, q.panel).toContain('cluster=~"$cluster", namespace=~"$namespace", job=~"$job"');
    for (const p of panels.filter((x) => x.type !== 'row')) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const t of p.targets ?? []) expect(t.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
    for (const q of queries.filter((x) => x.expr.includes('haproxy_dns_agent_') && /backend/.test(x.expr)))
      expect(q.expr, q.panel).toContain('backend=~"$backend"');
  });

  it('lays its panels out without overlap, each with its own id', () => {
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    const cells = new Set<string>();
    for (const p of panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${String(x)},${String(y)}`), `${p.title} overlaps at ${String(x)},${String(y)}`).toBe(false);
          cells.add(`${String(x)},${String(y)}`);
        }
    }
  });
});
