import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DASHBOARD_CONFIGMAP_FILE,
  DASHBOARD_FILE,
  dashboardConfigMap,
  PROMETHEUS_RULE_FILE,
  prometheusRule,
  RULES_FILE,
  RUNBOOKS_DOC,
} from './prometheus-rule.ts';
import { kustomize, objectsOf, templateOf, writeOverlay } from '../deploy/kustomize.ts';
import { readRepoFile, ROOT, runTool } from './tools.ts';

const SIDECAR_LABEL = 'haproxy-dns-agent/sidecar';

/** Two HAProxy Deployments, one labelled for the agent, with both components (the monitoring one as docs/monitoring.md lists it). */
function recipeForMonitoring(): Record<string, string> {
  const deployment = (name: string, labels: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, labels: { app: ${name}${labels} } }
spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers: [{ name: haproxy, image: haproxy:3.2 }]
`;
  const settings = readRepoFile('k8s/examples/web/dns-agent/settings.yaml');
  return {
    'kustomization.yaml': `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [haproxy.yaml, dns-agent/settings.yaml]
transformers: [dns-agent]
components: [COMPONENTS/monitoring]
configMapGenerator: [{ name: haproxy-dns-agent, literals: [HAPROXY_DNS_AGENT_BACKEND=be_app=_http._tcp.app] }]
`,
    // The agent's pods are not app: haproxy; an HAProxy without the agent is.
    'haproxy.yaml': `${deployment('edge', `, ${SIDECAR_LABEL}: "true"`)}---\n${deployment('haproxy', '')}`,
    'dns-agent/kustomization.yaml': 'resources: [settings.yaml]\ncomponents: [COMPONENTS/dns-agent]\n',
    'dns-agent/settings.yaml': settings,
  };
}

const COMPONENT = `${ROOT}k8s/components/monitoring`;
const rules = readRepoFile(RULES_FILE);

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec: Record<string, unknown> };
type RuleGroups = { groups: { name: string; rules: { alert: string; annotations: Record<string, string> }[] }[] };

const work = mkdtempSync(join(tmpdir(), 'hda-monitoring-'));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** Renders an overlay (its kustomization.yaml text, where COMPONENT stands for the component's path) with `kubectl kustomize`. */
function render(name: string, kustomization: string): Obj[] {
  const overlay = mkdtempSync(join(work, `${name}-`));
  writeFileSync(join(overlay, 'kustomization.yaml'), kustomization.replaceAll('COMPONENT', relative(overlay, COMPONENT)));
  const r = runTool('kubectl', ['kustomize', overlay]);
  expect(r.ok, r.output).toBe(true);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
}

/** The overlay of docs/monitoring.md that sets the runbook base. */
function docRunbookOverlay(): string {
  const section = /^## Runbook links$([\s\S]*?)^## /m.exec(readRepoFile(RUNBOOKS_DOC))?.[1] ?? '';
  const snippet = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').find((s) => s.includes('replacements:'));
  expect(snippet, `${RUNBOOKS_DOC}, Runbook links: an overlay with replacements`).toBeDefined();
  expect(snippet).toContain('- ../../components/monitoring');
  return (snippet ?? '').replace('../../components/monitoring', 'COMPONENT');
}

describe('k8s/components/monitoring', () => {
  it(`holds ${RULES_FILE} as a PrometheusRule, generated from it byte for byte`, async () => {
    const generated = prometheusRule(rules);
    expect((parse(generated) as Obj).spec).toEqual(parse(rules));
    await expect(generated).toMatchFileSnapshot(`${ROOT}${PROMETHEUS_RULE_FILE}`);
  });

  it(`holds ${DASHBOARD_FILE} as a ConfigMap for Grafana's dashboard sidecar, byte for byte`, async () => {
    const json = readRepoFile(DASHBOARD_FILE);
    const generated = dashboardConfigMap(json);
    const cm = parse(generated) as { metadata: { labels: Record<string, string> }; data: Record<string, string> };
    expect(cm.metadata.labels['grafana_dashboard']).toBe('1');
    expect(cm.data['haproxy-dns-agent.json']).toBe(json);
    await expect(generated).toMatchFileSnapshot(`${ROOT}${DASHBOARD_CONFIGMAP_FILE}`);
  });

  it('renders through an overlay: the rules, the dashboard, and a PodMonitor on the agent port of the pods the dns-agent component labels', () => {
    const objects = render(
      'plain',
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: web\ncomponents:\n  - COMPONENT\n',
    );
    expect(objects.map((o) => `${o.apiVersion} ${o.kind}`).sort()).toEqual([
      'monitoring.coreos.com/v1 PodMonitor',
      'monitoring.coreos.com/v1 PrometheusRule',
      'v1 ConfigMap',
    ]);
    for (const o of objects) expect(o.metadata.namespace).toBe('web');
    expect(objects.find((o) => o.kind === 'PrometheusRule')?.spec).toEqual(parse(rules));
    // The job is the Operator's, <namespace>/<PodMonitor>: the rules take it and a plain job's name.
    expect(objects.find((o) => o.kind === 'PodMonitor')?.spec).toEqual({
      selector: { matchLabels: { [SIDECAR_LABEL]: 'true' } },
      podMetricsEndpoints: [{ port: 'agent', path: '/metrics', interval: '30s' }],
    });
    expect(rules).toContain('up{job=~"(.+/)?haproxy-dns-agent"}');
  });

  it('selects exactly the pods the dns-agent component changed: the label it puts on their template', () => {
    const { dir, remove } = writeOverlay(recipeForMonitoring());
    try {
      const r = kustomize(dir);
      expect(r.ok, r.text).toBe(true);
      const objects = objectsOf(r.text);
      const monitor = objects.find((o) => o.kind === 'PodMonitor') as unknown as {
        spec: { selector: { matchLabels: Record<string, string> } };
      };
      const selects = (labels: Record<string, string> | undefined) =>
        Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => labels?.[k] === v);
      const workloads = objects.filter((o) => o.kind === 'Deployment');
      expect(workloads.map((o) => [o.metadata.name, selects(templateOf(o).metadata?.labels)])).toEqual([
        ['edge', true],
        ['haproxy', false],
      ]);
    } finally {
      remove();
    }
  });

  it("puts the base the docs' overlay gives before every runbook_url", () => {
    const overlay = docRunbookOverlay();
    const base = /url=(\S+)/.exec(overlay)?.[1] ?? '';
    expect(base).toMatch(/^https:\/\/\S+[^/]$/);
    const objects = render('runbooks', overlay);
    expect(objects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'PodMonitor', 'PrometheusRule']); // the dashboard's; the base's is not deployed
    const spec = objects.find((o) => o.kind === 'PrometheusRule')?.spec as RuleGroups;
    const urls = spec.groups.flatMap((g) => g.rules.map((r) => [r.alert, r.annotations['runbook_url']]));
    expect(urls.length).toBeGreaterThan(0);
    for (const [alert, url] of urls) expect(url).toBe(`${base}#${alert?.toLowerCase() ?? ''}`);
  });
});
