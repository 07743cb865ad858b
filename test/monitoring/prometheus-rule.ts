/** Where the monitoring files live, from the repository's root. */
export const RULES_FILE = 'monitoring/alerts.rules.yml';
export const PROMETHEUS_RULE_FILE = 'k8s/components/monitoring/prometheus-rule.yaml';

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
    `# Generated from ${RULES_FILE}: do not edit. After changing the rules, write it again with`,
    '#   npx vitest run --project adapters test/monitoring/component.test.ts --update',
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
