import type { Finding } from '../core/findings.ts';
import type { Change } from '../core/types.ts';
import type { CommandResult, Snapshot } from '../haproxy/runtime.ts';
import type { BackendsPlan, ServerCounts, Work } from './decide.ts';

/** What a socket lane's run reports (the Reporter's input), and what each of its steps hands the next. */

/** A server added or deleted at run time (--dynamic-servers), for its log line. */
export type DynamicChange = Readonly<{ backend: string; server: string; added: string | null }>;

/** A server change, for its log line. */
export type ServerChange = Readonly<{ backend: string; change: Change; liveSessions: number | null }>;

/** How one run of a socket's lane went. */
export type SocketReport = Readonly<{
  lane: 'socket';
  socket: string;
  findings: readonly Finding[];
  /** HAProxy reloaded or restarted since the last run (why), else null. */
  reload: Readonly<{ reason: string; version: string }> | null;
  changes: readonly ServerChange[];
  /** Servers added (with their endpoint) or deleted this run. */
  dynamic: readonly DynamicChange[];
  results: readonly CommandResult[];
  /** Backend id -> managed servers by state. */
  servers: ReadonlyMap<string, ServerCounts>;
  /** Backend id -> endpoints that found no slot. */
  unplaced: ReadonlyMap<string, number>;
  /** Backend id -> seconds from the DNS change to HAProxy acknowledging it, on this socket. */
  latency: ReadonlyMap<string, number>;
  durationMs: number;
}>;

/** A run's report before the lane names itself and its duration. */
export type Progress = Omit<SocketReport, 'lane' | 'socket' | 'durationMs'>;

export const EMPTY: Progress = {
  findings: [],
  reload: null,
  changes: [],
  dynamic: [],
  results: [],
  servers: new Map(),
  unplaced: new Map(),
  latency: new Map(),
};

/**
 * What the work sent says, for the log: each server change (with the live sessions of a
 * server leaving, read before it left), and each server added or deleted.
 */
export function changesOf(
  touched: readonly Work[],
  sessions: ReadonlyMap<string, number>,
): { changes: ServerChange[]; dynamic: DynamicChange[] } {
  const changes: ServerChange[] = [];
  const dynamic: DynamicChange[] = [];
  for (const w of touched) {
    for (const change of w.plan.changes) {
      const liveSessions = change.to.admin === 'maint' ? (sessions.get(`${w.spec.backend}/${change.server}`) ?? null) : null;
      changes.push({ backend: w.spec.id, change, liveSessions });
    }
    for (const server of w.deleted) dynamic.push({ backend: w.spec.id, server, added: null });
    for (const a of w.added) {
      dynamic.push({
        backend: w.spec.id,
        server: a.name,
        added: `${a.endpoint.address}:${String(a.endpoint.port)} (${a.endpoint.target})`,
      });
    }
  }
  return { changes, dynamic };
}

/** A backend as the report needs it: its DNS revision, and whether DNS has said anything yet. */
type Revised = Readonly<{ spec: Readonly<{ id: string }>; known: boolean; revision: Readonly<{ n: number; at: number }> }>;

/**
 * What a run that sent its steps acknowledged, per backend HAProxy took whole (none
 * rejected, every change seen on the second read): it is `settled` for this process (when
 * DNS had said something), and a DNS revision it had not matched before is acknowledged in
 * `acked`, with how long that change took to reach HAProxy (seconds; only a run that sent
 * that backend steps: a drain ending, a drift repaired or a reload are no update latency).
 */
export function acknowledge(
  backends: readonly Revised[],
  work: readonly Work[],
  applied: Extract<Applied, { sent: true }>,
  verified: Verified,
  acked: Map<string, number>,
  settled: Set<string>,
): Map<string, number> {
  const latency = new Map<string, number>();
  for (const b of backends) {
    const id = b.spec.id;
    if (applied.rejected.has(id) || verified.failed.has(id) || !work.some((w) => w.spec.id === id)) continue;
    // Only what DNS said counts: servers emptied because DNS never answered since start do not.
    if (b.known) settled.add(id);
    if (work.some((w) => w.spec.id === id && w.steps.length > 0) && acked.get(id) !== b.revision.n)
      latency.set(id, (applied.at - b.revision.at) / 1_000);
    acked.set(id, b.revision.n);
  }
  return latency;
}

/* What each step of a run hands the next: observe, plan, apply, verify, report. */

/** What a full run observed: the snapshot, the reload if any, the checks' findings, the backends this process has had applied. */
export type Seen = Readonly<{
  snap: Snapshot;
  reload: Progress['reload'];
  findings: readonly Finding[];
  settled: Set<string>;
}>;

/** What the run plans: every backend's work, and what the planning found. */
export type Planned = BackendsPlan;

/** What applying the plan did: `sent` when HAProxy was sent the steps (not a dry run, no failure). */
export type Applied = Readonly<{ results: readonly CommandResult[]; findings: Finding[]; sessions: ReadonlyMap<string, number> }> &
  (Readonly<{ sent: false }> | Readonly<{ sent: true; rejected: ReadonlySet<string>; at: number }>);

/** What the second read found: the backends some of whose servers do not show their change. */
export type Verified = Readonly<{ findings: readonly Finding[]; failed: ReadonlySet<string> }>;

export const NOT_VERIFIED: Verified = { findings: [], failed: new Set() };
