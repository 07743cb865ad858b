/** The soak's summary in Markdown: what ran, then per phase and per agent life what was seen. It reports; it does not judge. */
import type { PhaseStats } from './soak-clients.ts';
import type { Life, Sample } from './soak-agent.ts';
import { optionFlags, type SoakOptions } from './soak-options.ts';
import { PHASE_TEXT, type PhaseName } from './soak-phases.ts';

export type SoakRun = Readonly<{
  options: SoakOptions;
  versions: Readonly<{ haproxy: string; bind: string; node: string }>;
  /** The machine's load average (1 minute) at the start and at the end, and its cores: latencies depend on them. */
  machine: Readonly<{ loadStart: number; loadEnd: number; cores: number }>;
  slots: readonly string[];
  agentFlags: readonly string[];
  drain: string;
  stopAfterMs: number;
  elapsedMs: number;
  cycles: number;
  phases: ReadonlyMap<PhaseName, PhaseStats>;
  lives: readonly Life[];
  /** Why the soak ended early, if it did. */
  cutShort: string | null;
}>;

const ms = (x: number): string => (Number.isNaN(x) ? 'n/a' : x >= 1_000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(1)} ms`);
const mib = (bytes: number | null | undefined): string =>
  bytes === null || bytes === undefined || Number.isNaN(bytes) ? 'n/a' : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const fromTo = (a: Sample | null, b: Sample | null, f: (s: Sample) => string): string =>
  `${a === null ? 'n/a' : f(a)} -> ${b === null ? 'n/a' : f(b)}`;

export function soakReport(r: SoakRun): string {
  const o = r.options;
  // In the order of a cycle, whichever ran first.
  const order = Object.keys(PHASE_TEXT);
  const phases = [...r.phases].sort(([a], [b]) => order.indexOf(a) - order.indexOf(b));
  const sum = (f: (s: PhaseStats) => number): number => phases.reduce((n, [, s]) => n + f(s), 0);
  const phaseRows = phases.map(
    ([name, s]) =>
      `| ${name} | ${String(s.runs)} | ${(s.ms / 1000).toFixed(0)} s | ${String(s.requests)} | ${String(s.failures)} | ${s.failures === 0 ? '' : ms(s.longestFailingMs)} | ${String(s.movedInDns)} | ${String(s.movedAfterRemoval)} | ${ms(s.latency.quantile(0.5))} | ${ms(s.latency.quantile(0.99))} |`,
  );
  const reasons = phases
    .filter(([, s]) => s.reasons.size > 0)
    .map(([name, s]) => `- ${name}: ${[...s.reasons].map(([why, n]) => `${why} (${String(n)})`).join('; ')}`);
  const lifeRows = r.lives.map(
    (l) =>
      `| ${String(l.n)} | ${(l.startedAtMs / 1000).toFixed(0)} s | ${l.readyMs === null ? 'not ready' : ms(l.readyMs)} | ${l.endedBy} | ${fromTo(l.start, l.end, (s) => mib(s.rssBytes))} | ${mib(l.peakRssBytes)} | ${fromTo(l.start, l.end, (s) => mib(s.heapUsedBytes))} | ${fromTo(l.start, l.end, (s) => String(s.fds))} | ${String(l.probeFailures)} | ${String(l.logLines)} |`,
  );
  return [
    '# Soak: sticky clients through scale events, DNS outages, agent restarts and HAProxy reloads',
    '',
    `\`npm run soak -- ${optionFlags(o)}\`: ${(r.elapsedMs / 60_000).toFixed(1)} minutes, ${String(r.cycles)} ${r.cycles === 1 ? 'cycle' : 'cycles'} of phases${r.cutShort === null ? '' : ` (cut short: ${r.cutShort})`}.`,
    `${r.versions.haproxy}, ${r.versions.bind}, Node.js ${r.versions.node}, on loopback; ${String(r.machine.cores)} cores, load average ${r.machine.loadStart.toFixed(1)} at the start and ${r.machine.loadEnd.toFixed(1)} at the end.`,
    '',
    `- Clients: ${String(o.sticky)} sticky (keeping the SRVID cookie HAProxy sets) and ${String(o.cookieless)} without cookies, each request on a new connection, ${String(o.pauseMs)} ms apart per client.`,
    `- HAProxy: \`cookie SRVID insert dynamic\` with a \`dynamic-cookie-key\`, \`option redispatch\`, slots \`${r.slots.join('`, `')}\`; reloaded by \`${o.reload}\` after \`show servers state\` is saved to its \`server-state-file\`.`,
    `- The agent: \`dist/main.js ${r.agentFlags.join(' ')}\`, started as the image starts it (its V8 flags on Node's command line).`,
    `- Pods: HTTP servers on 127.0.1.x answering with their address:port; a pod that leaves DNS serves ${String(r.stopAfterMs / 1000)} s more (a preStop sleep; the agent drains ${r.drain}), then stops.`,
    '',
    '## Per phase',
    '',
    'Failed: status 500 or more, or no answer; failing for: the longest time from the first failure of a run of the phase to its last. Moved: a sticky client answered by another pod than its last one, while that pod had not left DNS since the client reached it (the goal is zero), or after it had. Latency of the answered requests.',
    '',
    '| phase | runs | time | requests | failed | failing for | moved while in DNS | moved after leaving DNS | p50 | p99 |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...phaseRows,
    `| all | | ${(sum((s) => s.ms) / 1000).toFixed(0)} s | ${String(sum((s) => s.requests))} | ${String(sum((s) => s.failures))} | | ${String(sum((s) => s.movedInDns))} | ${String(sum((s) => s.movedAfterRemoval))} | | |`,
    '',
    ...(reasons.length === 0 ? [] : ['Why requests failed (the first reasons of each phase, with their counts):', '', ...reasons, '']),
    'What each phase does at its start:',
    '',
    ...phases.map(([name]) => `- ${name}: ${PHASE_TEXT[name]}.`),
    '',
    '## Agent lives',
    '',
    'A life ends at a restart. Resident memory and heap used from its /metrics, file descriptors from /proc, at its start (once /readyz said 200) and at its end; peak: its VmHWM at the end. Probes: /readyz every 5 s, /healthz every 10 s, /metrics every 30 s, answers other than 200 once it was ready.',
    '',
    '| life | started | ready after | ended by | RSS | peak RSS | heap used | fds | probes not 200 | log lines (warn+) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...lifeRows,
    '',
  ].join('\n');
}
