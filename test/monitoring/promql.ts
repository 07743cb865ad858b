import { AgentMetrics } from '../../src/observability/metrics.ts';

/**
 * The metric names a PromQL expression reads. Not a parser: it removes what holds no metric
 * name (strings, label matchers, ranges, grouping clauses, Grafana variables, numbers), and
 * every identifier left that is not a function call or a keyword is a metric name. What it
 * cannot read comes out as a name, and so fails the name check rather than passing it.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\b(?:group_left|group_right)\b/g, ' ')
    .replace(/\boffset\s+-?[\dsmhdwy]+/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w.])[a-zA-Z_:][\w:]*/g)) {
    const after = bare.slice(m.index + m[0].length);
    if (/^\s*\(/.test(after)) continue; // a function or an aggregation
    if (KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names].sort();
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'inf', 'nan', 'atan2']);

/** Series Prometheus itself adds to every target. */
const PROMETHEUS_SERIES = ['up'];

/**
 * Every series name a scrape of the agent holds, read from the registry the agent builds
 * (with the default process and Node.js metrics): a histogram as its _bucket, _sum and
 * _count series.
 */
export async function exportedSeries(): Promise<Set<string>> {
  const metrics = await new AgentMetrics().registry.getMetricsAsJSON();
  const names = new Set<string>(PROMETHEUS_SERIES);
  for (const m of metrics) {
    const type = String(m.type); // 'counter', 'gauge', ...: prom-client's typings say a numeric enum
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) names.add(m.name + s);
    else names.add(m.name);
  }
  return names;
}
