import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { PROMETHEUS_RULE_FILE, prometheusRule, RULES_FILE } from './prometheus-rule.ts';
import { readRepoFile, ROOT, runTool } from './tools.ts';

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

/** The README's overlay that puts a base before each alert's runbook_url. */
function readmeRunbookOverlay(): string {
  const monitoring = /^## Monitoring$([\s\S]*?)^## /m.exec(readRepoFile('README.md'))?.[1] ?? '';
  const snippet = [...monitoring.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').find((s) => s.includes('replacements:'));
  expect(snippet, 'README, Monitoring: an overlay with replacements').toBeDefined();
  expect(snippet).toContain('- ../../components/monitoring');
  return (snippet ?? '').replace('../../components/monitoring', 'COMPONENT');
}

describe('k8s/components/monitoring', () => {
  it(`holds ${RULES_FILE} as a PrometheusRule, generated from it byte for byte`, async () => {
    const generated = prometheusRule(rules);
    expect((parse(generated) as Obj).spec).toEqual(parse(rules));
    await expect(generated).toMatchFileSnapshot(`${ROOT}${PROMETHEUS_RULE_FILE}`);
  });

  it('renders through an overlay: the rules, and a PodMonitor on the agent port of the HAProxy pods', () => {
    const objects = render(
      'plain',
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: web\ncomponents:\n  - COMPONENT\n',
    );
    expect(objects.map((o) => `${o.apiVersion} ${o.kind}`).sort()).toEqual([
      'monitoring.coreos.com/v1 PodMonitor',
      'monitoring.coreos.com/v1 PrometheusRule',
    ]);
    for (const o of objects) expect(o.metadata.namespace).toBe('web');
    expect(objects.find((o) => o.kind === 'PrometheusRule')?.spec).toEqual(parse(rules));
    expect(objects.find((o) => o.kind === 'PodMonitor')?.spec).toEqual({
      selector: { matchLabels: { app: 'haproxy' } },
      podMetricsEndpoints: [
        {
          port: 'agent',
          path: '/metrics',
          interval: '30s',
          // The job name the rules and the dashboard expect.
          relabelings: [{ action: 'replace', targetLabel: 'job', replacement: 'haproxy-dns-agent' }],
        },
      ],
    });
    expect(rules).toContain('up{job="haproxy-dns-agent"}');
  });

  it("puts the base the README's overlay gives before every runbook_url", () => {
    const overlay = readmeRunbookOverlay();
    const base = /url=(\S+)/.exec(overlay)?.[1] ?? '';
    expect(base).toMatch(/^https:\/\/\S+\/$/);
    const objects = render('runbooks', overlay);
    expect(objects.map((o) => o.kind).sort()).toEqual(['PodMonitor', 'PrometheusRule']); // the base's ConfigMap is not deployed
    const spec = objects.find((o) => o.kind === 'PrometheusRule')?.spec as RuleGroups;
    const urls = spec.groups.flatMap((g) => g.rules.map((r) => [r.alert, r.annotations['runbook_url']]));
    expect(urls.length).toBeGreaterThan(0);
    for (const [alert, url] of urls) expect(url).toBe(`${base}README.md#${alert?.toLowerCase() ?? ''}`);
  });
});
