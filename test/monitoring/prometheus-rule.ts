import { readFileSync } from 'node:fs';

/** Where the monitoring files live, from the repository's root. */
export const RULES_FILE = 'monitoring/alerts.rules.yml';
export const DASHBOARD_FILE = 'monitoring/dashboard.json';
export const PROMETHEUS_RULE_FILE = 'k8s/components/monitoring/prometheus-rule.yaml';
export const DASHBOARD_CONFIGMAP_FILE = 'k8s/components/monitoring/grafana-dashboard.yaml';
/** Where the runbooks are documented, in the repository. */
export const RUNBOOKS_DOC = 'docs/monitoring.md';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
/** The rules' runbook base by default: this release's docs/monitoring.md as the npm package publishes it. */
export const RUNBOOK_BASE = `https://unpkg.com/haproxy-dns-agent@${VERSION}/${RUNBOOKS_DOC}`;

const GENERATED = (source: string) => [
  `# Generated from ${source}: do not edit. After changing it, write it again with`,
  '#   npx vitest run --project adapters test/monitoring/component.test.ts --update',
];

/**
 * The Prometheus Operator's PrometheusRule holding the rules file: its `spec` is the file's
 * `groups:` document, indented under `spec:`, so the two cannot differ but by that. The
 * file's leading comment, which speaks of prometheus.yml, is left out.
 */
export function prometheusRule(rules: string): string {
  const lines = rules.split('\n');
  const start = lines.findIndex((l) => l !== '' && !l.startsWith('#'));
  const spec = lines.slice(start).map((l) => (l === '' ? l : `  ${l}`));
  return [
    ...GENERATED(RULES_FILE),
    'apiVersion: monitoring.coreos.com/v1',
    'kind: PrometheusRule',
    'metadata:',
    '  name: haproxy-dns-agent',
    '  labels:',
    '    app.kubernetes.io/name: haproxy-dns-agent',
    'spec:',
    ...spec,
  ].join('\n');
}

/**
 * The dashboard as a ConfigMap that Grafana's dashboard sidecar loads (the label
 * grafana_dashboard: "1", kube-prometheus-stack's default): the JSON file, byte for byte,
 * as a literal block.
 */
export function dashboardConfigMap(json: string): string {
  return [
    ...GENERATED(DASHBOARD_FILE),
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: haproxy-dns-agent-dashboard',
    '  labels:',
    '    app.kubernetes.io/name: haproxy-dns-agent',
    '    grafana_dashboard: "1"',
    'data:',
    '  haproxy-dns-agent.json: |',
    ...json
      .trimEnd()
      .split('\n')
      .map((l) => (l === '' ? l : `    ${l}`)),
    '',
  ].join('\n');
}
