import { pino, type Logger } from 'pino';
import { describeNameserver, type LogFormat } from '../config/model.ts';
import { findingKey, findingText, logLevelOf, severityOf, type Finding } from '../core/findings.ts';
import type { HoldEvent } from '../core/hold.ts';
import type { SavedState } from '../core/saved-state.ts';
import type { DnsObserver } from '../dns/resolver.ts';
import type { ServerStateOutcome } from '../state/server-state.ts';
import type { AgentMetrics } from '../observability/metrics.ts';
import { DNS_STATUSES, type DnsReport } from './dns-lane.ts';
import { ChangeHistory, describeTarget, type ChangeRecord } from './change-history.ts';
import { textLine } from './log-text.ts';
import type { SocketReport } from './socket-lane.ts';

export type LaneReport = DnsReport | SocketReport;

const REFUSAL_REASONS = ['invalid-name', 'unspecified', 'broadcast', 'multicast', 'link-local', 'reserved', 'loopback', 'not-allowed'];

/** Where log lines go: a stream that takes one whole line at a time. */
export type LogDestination = Readonly<{ write: (line: string) => unknown }>;

/**
 * The agent's logger. JSON lines name their level (`"level":"info"`, as log tools and
 * people read it, not pino's 30); `text` turns each into one line for a person
 * (src/agent/log-text.ts). By default lines go to stderr, written before the call returns:
 * what the agent says before it exits is never lost.
 */
export function createLogger(
  o: Readonly<{ level: string; format: LogFormat }>,
  destination: LogDestination = pino.destination({ fd: 2, sync: true }),
): Logger {
  const out: LogDestination =
    o.format === 'json' ? destination : { write: (line) => destination.write(textLine(JSON.parse(line) as Record<string, unknown>)) };
  return pino({ level: o.level, base: { component: 'agent' }, formatters: { level: (label) => ({ level: label }) } }, out);
}

/** A lane run is complete when nothing it found keeps HAProxy from matching DNS. */
export const laneOk = (r: LaneReport): boolean => r.findings.every((f) => severityOf(f) === 'warning');

/**
 * Every log line and metric of the pass, in one place. Lanes hand in their reports; this
 * logs each condition once per transition (when it appears, changes or, for some, ends),
 * each event once, under a child logger per lane ({backend} or {socket}), updates the
 * metrics, and tells listeners that a lane finished (tests wait on that, not on sleeps).
 */
export class Reporter {
  readonly #log: Logger;
  readonly #metrics: AgentMetrics | null;
  readonly #children = new Map<string, Logger>();
  /** Lane -> finding key -> what was logged, so a repeated condition is logged once. */
  readonly #logged = new Map<string, Map<string, string>>();
  readonly #listeners = new Set<(r: LaneReport) => void>();
  #stateProblem: string | null = null;
  /** What --server-state-file's last attempt said was wrong, null when it wrote. */
  #serverStateProblem: string | null = null;
  /** What --master-socket last said: undefined before anything. */
  #masterProblem: string | null | undefined = undefined;
  /** Lanes whose counters exist at 0 already: an alert's increase() must see the first rejection or failure too. */
  readonly #counted = new Set<string>();
  /** Backend -> the DNS status and serial trust its gauges were last set to: set again only when they change (a lane runs every interval). */
  readonly #dnsGauges = new Map<string, string>();
  /** --once: problems are said in its summary, in plain text, and not logged as well. */
  readonly #problemsSaidElsewhere: boolean;
  /** The last changes made, for the status page (a ring: nothing more is kept). */
  readonly #history = new ChangeHistory();
  readonly #now: () => number;

  constructor(log: Logger, metrics: AgentMetrics | null, o: Readonly<{ problemsSaidElsewhere?: boolean; now?: () => number }> = {}) {
    this.#log = log;
    this.#metrics = metrics;
    this.#problemsSaidElsewhere = o.problemsSaidElsewhere === true;
    this.#now = o.now ?? Date.now;
  }

  /** The last changes made to servers, oldest first (the status page). */
  recentChanges(): ChangeRecord[] {
    return this.#history.recent();
  }

  /** Calls `listener` with every lane report from now on; returns how to stop. */
  subscribe(listener: (r: LaneReport) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  dns(r: DnsReport): void {
    const log = this.#child(`dns ${r.backend}`, { backend: r.backend, record: r.record });
    if (r.event !== null) logHoldEvent(log, r.event, r.endpoints);
    this.#findings(`dns ${r.backend}`, log, r.findings, ['backend', 'record']);
    const m = this.#metrics;
    m?.endpoints.set({ backend: r.backend }, r.endpoints ?? 0);
    if (m !== null) {
      const refused = new Map<string, number>(REFUSAL_REASONS.map((reason) => [reason, 0]));
      for (const f of r.findings) if (f.kind === 'endpoint-refused') refused.set(f.reason, (refused.get(f.reason) ?? 0) + 1);
      for (const [reason, n] of refused) m.refused.set({ backend: r.backend, reason }, n);
    }
    if (r.answerAgeMs !== null) m?.answerAge.set({ backend: r.backend }, r.answerAgeMs / 1_000);
    if (r.dropped !== null) m?.endpointsDropped.set({ backend: r.backend }, r.dropped);
    const distrusted = r.findings.some((f) => f.kind === 'serial-distrusted');
    const gauges = `${r.status} ${String(distrusted)}`;
    if (m !== null && this.#dnsGauges.get(r.backend) !== gauges) {
      this.#dnsGauges.set(r.backend, gauges);
      for (const status of DNS_STATUSES) m.dnsStatus.set({ backend: r.backend, status }, status === r.status ? 1 : 0);
      m.serialDistrusted.set({ backend: r.backend }, distrusted ? 1 : 0);
    }
    if (m !== null)
      this.#zeroCounters(`dns ${r.backend}`, () => {
        for (const result of ['ok', 'failed']) m.passes.inc({ lane: 'dns', name: r.backend, result }, 0);
      });
    m?.passes.inc({ lane: 'dns', name: r.backend, result: laneOk(r) ? 'ok' : 'failed' });
    log.debug(
      { endpoints: r.endpoints, ttl: r.ttlSeconds, answerAgeMs: r.answerAgeMs, changed: r.changed, ms: r.durationMs, ok: laneOk(r) },
      'dns lane ran',
    );
    this.#emit(r);
  }

  socket(r: SocketReport): void {
    const log = this.#child(`socket ${r.socket}`, { socket: r.socket });
    if (r.reload !== null) {
      log.warn({ reason: r.reload.reason, version: r.reload.version }, 'HAProxy reloaded or restarted: pushing every managed server again');
      this.#metrics?.reloads.inc({ socket: r.socket });
    }
    this.#history.record(r, this.#now());
    for (const { backend, change: c, liveSessions } of r.changes) {
      log.info(
        {
          backend,
          server: c.server,
          reason: c.reason,
          from: describeTarget(c.from),
          to: describeTarget(c.to),
          ...(c.endpoint === null ? {} : { target: c.endpoint.target }),
          ...(liveSessions === null ? {} : { liveSessions }),
        },
        'server change',
      );
    }
    for (const d of r.dynamic) {
      if (d.added === null) log.info({ backend: d.backend, server: d.server }, 'server deleted: added at run time, its pod left');
      else log.info({ backend: d.backend, server: d.server, endpoint: d.added }, 'server added: more endpoints than slots');
    }
    this.#findings(`socket ${r.socket}`, log, r.findings, ['socket']);
    const m = this.#metrics;
    if (m !== null) {
      for (const [backend, byKind] of r.servers) {
        for (const [kind, counts] of Object.entries(byKind)) {
          for (const [state, n] of Object.entries(counts)) m.servers.set({ backend, socket: r.socket, state, kind }, n);
        }
      }
      for (const [backend, n] of r.unplaced) m.unplaced.set({ backend }, n);
      this.#zeroCounters(`socket ${r.socket}`, () => {
        for (const result of ['ok', 'rejected']) m.commands.inc({ socket: r.socket, result }, 0);
        for (const result of ['ok', 'failed']) m.passes.inc({ lane: 'socket', name: r.socket, result }, 0);
      });
      for (const res of r.results) m.commands.inc({ socket: r.socket, result: res.verdict.ok ? 'ok' : 'rejected' });
      for (const [backend, seconds] of r.latency) m.updateLatency.observe({ backend, socket: r.socket }, seconds);
      m.passes.inc({ lane: 'socket', name: r.socket, result: laneOk(r) ? 'ok' : 'failed' });
      // Something on the socket that does not answer like HAProxy is no HAProxy reached.
      const away = r.findings.some(
        (f) => f.kind === 'haproxy-unreachable' || f.kind === 'haproxy-stopping' || f.kind === 'haproxy-unreadable',
      );
      m.haproxyUp.set({ socket: r.socket }, away ? 0 : 1);
    }
    log.debug({ commands: r.results.length, changes: r.changes.length, ms: r.durationMs, ok: laneOk(r) }, 'socket lane ran');
    this.#emit(r);
  }

  /** The state file could not be read, used, or written (a problem), or is fine again (null). Said once per change. */
  stateFile(path: string, problem: string | null): void {
    if (problem === this.#stateProblem) return;
    this.#stateProblem = problem;
    if (problem !== null) this.#log.warn({ stateFile: path, problem }, 'state file: going on without it');
  }

  /**
   * What became of an attempt to write --server-state-file: a problem is said once per
   * change (and that the file is written again, after one); each write at debug.
   */
  serverStateFile(path: string, outcome: ServerStateOutcome): void {
    const problem = 'problem' in outcome ? outcome.problem : null;
    const before = this.#serverStateProblem;
    this.#serverStateProblem = problem;
    if ('written' in outcome) {
      const { socket, bytes } = outcome.written;
      if (before !== null) this.#log.info({ serverStateFile: path, socket, bytes }, 'server state file written again');
      else this.#log.debug({ serverStateFile: path, socket, bytes }, 'server state file written');
    } else if (problem !== before) {
      this.#log.warn({ serverStateFile: path, problem }, 'server state file not written: a reload now starts from the one written before');
    }
  }

  /** Whether --master-socket is held (null), or why not; said once per change. */
  masterSocket(label: string, problem: string | null): void {
    if (problem === this.#masterProblem) return;
    const first = this.#masterProblem === undefined;
    this.#masterProblem = problem;
    const log = this.#child('master', { masterSocket: label });
    if (problem !== null) log.warn({ problem }, 'master CLI not held: a reload under -W is found at the next run or /readyz probe');
    else if (!first) log.info('master CLI held again: a reload is heard at once');
  }

  /**
   * What the state file brought at start, and what its bounds left out of each backend's
   * answer (`dropped`, counted as a DNS answer's are until DNS answers).
   */
  stateLoaded(path: string, state: SavedState, now: number, dropped: Readonly<Record<string, number>> = {}): void {
    const answers = Object.entries(state.backends).map(([backend, a]) => ({
      backend,
      endpoints: a.endpoints.length,
      ...(dropped[backend] === undefined ? {} : { dropped: dropped[backend] }),
      ageSeconds: Math.round((now - a.at) / 1000),
    }));
    for (const [backend, n] of Object.entries(dropped)) this.#metrics?.endpointsDropped.set({ backend }, n);
    const drains = Object.values(state.drains).reduce((n, per) => n + Object.values(per).reduce((m, s) => m + Object.keys(s).length, 0), 0);
    this.#log.info({ stateFile: path, answers, drains }, 'state file read');
  }

  #zeroCounters(lane: string, create: () => void): void {
    if (this.#counted.has(lane)) return;
    this.#counted.add(lane);
    create();
  }

  /** Counts every DNS query and dropped reply. */
  dnsObserver(): DnsObserver {
    const log = this.#child('dns', { component: 'dns' });
    return {
      query: (ns, transport, result, count = 1) =>
        this.#metrics?.dnsQueries.inc({ nameserver: describeNameserver(ns), transport, result }, count),
      dropped: (ns, transport, reason) => {
        this.#metrics?.dnsDropped.inc({ nameserver: describeNameserver(ns), transport, reason });
        log.debug({ nameserver: describeNameserver(ns), transport, reason }, 'dropped a DNS reply');
      },
    };
  }

  /** Logs the findings that are new or changed since this lane's last report, and the ends worth saying. */
  #findings(lane: string, log: Logger, findings: readonly Finding[], bound: readonly string[]): void {
    const before = this.#logged.get(lane) ?? new Map<string, string>();
    const now = new Map<string, string>();
    for (const f of findings) {
      const key = findingKey(f);
      const { msg, fields } = logLine(f, bound);
      const signature = JSON.stringify(fields);
      now.set(key, signature);
      const level = logLevelOf(f);
      if (level === null || before.get(key) === signature) continue;
      if (this.#problemsSaidElsewhere && severityOf(f) !== 'warning') continue;
      log[level](fields, msg);
    }
    for (const key of before.keys()) {
      if (!now.has(key) && key.startsWith('haproxy-unreachable|')) log.info('HAProxy reachable again');
    }
    this.#logged.set(lane, now);
  }

  #child(key: string, bindings: Record<string, string>): Logger {
    let child = this.#children.get(key);
    if (child === undefined) {
      child = this.#log.child(bindings);
      this.#children.set(key, child);
    }
    return child;
  }

  #emit(r: LaneReport): void {
    for (const l of [...this.#listeners]) l(r);
  }
}

/** A finding's log message and fields; the lane's child logger already carries the `bound` fields (a JSON key twice on a line is not JSON anyone can read). */
function logLine(f: Finding, bound: readonly string[]): { msg: string; fields: Record<string, unknown> } {
  // The kind stays: a log pipeline filters on it (the message reads well, the kind does not change).
  const fields = Object.fromEntries(Object.entries(f).filter(([k]) => !bound.includes(k)));
  if (f.kind === 'haproxy-unreachable') return { msg: 'waiting for HAProxy', fields: { kind: f.kind, err: f.detail } };
  if (f.kind === 'command-rejected') return { msg: 'HAProxy rejected a command', fields };
  if (f.kind === 'dns-unusable-records') return { msg: 'DNS answer had unusable records', fields: { kind: f.kind, notes: f.notes } };
  if (f.kind === 'endpoint-refused') return { msg: 'endpoint refused', fields };
  if (f.kind === 'endpoints-without-slot') {
    return {
      msg: 'more endpoints than server slots: these get none (add slots to the server-template)',
      fields: { kind: f.kind, backend: f.backend, missingSlots: f.count, endpoints: f.endpoints },
    };
  }
  return { msg: findingText(f), fields };
}

function logHoldEvent(log: Logger, e: HoldEvent, endpointsInForce: number | null): void {
  const seconds = (ms: number | null): number | null => (ms === null ? null : Math.round(ms / 100) / 10);
  switch (e.event) {
    case 'hold-started':
      log.warn(
        { fault: e.kind, detail: e.message, answerAgeSeconds: seconds(e.answerAgeMs), endpointsInForce },
        endpointsInForce === null ? 'DNS failing, and no answer to hold yet' : 'DNS failing: holding the last good answer',
      );
      return;
    case 'hold-expired':
      log.error(
        { fault: e.kind, answerAgeSeconds: seconds(e.answerAgeMs), endpointsDropped: e.endpointsDropped },
        'DNS hold expired: the servers leave',
      );
      return;
    case 'recovered':
      log.info({ failedForSeconds: seconds(e.failedForMs), answerAgeSeconds: seconds(e.answerAgeMs) }, 'DNS answering again');
      return;
  }
}
