import { findingText, severityOf, type Finding } from '../core/findings.ts';
import type { SlotMemory, WeightPolicy } from '../core/plan.ts';
import { AgentError, HaproxyConfigError, HaproxyProtocolError } from '../errors.ts';
import type { ShowInfo } from '../haproxy/parse.ts';
import type { HaproxyPort, Snapshot } from '../haproxy/runtime.ts';
import { dynamicAllowed, reloadReason, restoredWithoutAddress } from './checks.ts';
import { AtRest } from './at-rest.ts';
import { judgeResults, notTaken, planBackends, type BackendInForce, type Work } from './decide.ts';
import type { Writer } from './writers.ts';
import {
  acknowledge,
  changesOf,
  EMPTY,
  NOT_VERIFIED,
  type Applied,
  type Planned,
  type Progress,
  type Seen,
  type SocketReport,
  type Verified,
} from './socket-report.ts';
import { NewWorkerWait, SocketReadiness, type Confirmed, type SocketView } from './socket-readiness.ts';
import { SocketRecord, type SocketDetail } from './socket-detail.ts';
import { checkContact, liveSessionsOfLeaving } from './socket-reads.ts';

export type { DynamicChange, ServerChange, SocketReport } from './socket-report.ts';
export type { Confirmed, SocketView } from './socket-readiness.ts';
export type { SocketDetail } from './socket-detail.ts';

/** A backend's endpoints in force, as its DNS lane keeps them. */
export type BackendSource = BackendInForce &
  Readonly<{
    revision: Readonly<{ n: number; at: number }>;
    /** DNS has said what it holds (an answer, NXDOMAIN, NODATA, refused endpoints), even if nothing is in force yet. */
    known: boolean;
  }>;

export type SocketLaneDeps = Readonly<{
  port: HaproxyPort;
  backends: readonly BackendSource[];
  writer: Writer;
  now: () => number;
  drainMs: number;
  weights: WeightPolicy;
  cookieKey: string | null;
  /** How long a lane at rest may go on `show info` alone: drift made by someone else is repaired within it. */
  driftCheckMs: number;
  /** --dynamic-servers: add servers for the endpoints the slots cannot hold (HAProxy 2.4+). */
  dynamicServers: boolean;
  /** --max-endpoints: servers are added while a backend has fewer (slots and added ones). */
  maxEndpoints: number;
  /** Backend id -> server -> when its drain started, saved before a restart (--state-file). */
  savedDrains?: Readonly<Record<string, Readonly<Record<string, number>>>> | undefined;
}>;

/**
 * One HAProxy socket, on its own schedule. A run observes (HAProxy's state, and at first
 * contact with a process its configuration and level: checks.ts), plans (the steps of every
 * backend from that state, the endpoints DNS has in force and what the lane remembers;
 * pure, decide.ts), applies (the writer sends the steps, or prints them), verifies (a second
 * read) and reports. A hung or dead socket delays only this lane.
 */
export class SocketLane {
  readonly label: string;
  readonly #d: SocketLaneDeps;
  #info: ShowInfo | null = null;
  /** The HAProxy process whose configuration was checked, and whether any ever was. */
  #checkedPid: number | null = null;
  readonly #memory = new Map<string, SlotMemory>();
  /** Backends whose algorithm refuses weights: left alone from then on. */
  readonly #staticWeights = new Set<string>();
  /** Which process has had which backends applied, and whether the last run reached it (/readyz). */
  readonly #readiness: SocketReadiness;
  /** Backend id -> the DNS revision HAProxy last matched. */
  readonly #ackedRevision = new Map<string, number>();
  /** A reload was seen and not yet answered by a full push: a run cut short must not lose it. */
  #resyncPending = false;
  /** The shortcut of a lane at rest: `show info` alone while HAProxy holds what the last quiet run read. */
  readonly #rest: AtRest;
  /** The last full read and its plan (the status page). */
  readonly #record = new SocketRecord();
  /** A reloaded master's new worker, looked for (--master-socket). */
  readonly #newWorker = new NewWorkerWait();

  constructor(deps: SocketLaneDeps) {
    this.#d = deps;
    this.label = deps.port.label;
    this.#readiness = new SocketReadiness(this.label, deps.port);
    this.#rest = new AtRest(deps.driftCheckMs);
    for (const [id, servers] of Object.entries(deps.savedDrains ?? {})) {
      this.#memory.set(id, { drainingSince: new Map(Object.entries(servers)), lastHeld: new Map() });
    }
  }

  /** Backend id -> server -> when its drain started: what --state-file keeps of this lane. */
  drains(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [id, m] of this.#memory) if (m.drainingSince.size > 0) out[id] = Object.fromEntries(m.drainingSince);
    return out;
  }

  view(): SocketView {
    return this.#readiness.view();
  }

  /** What the status page shows of this socket; built only when asked. */
  detail(): SocketDetail {
    const info = this.#info;
    return this.#record.detail(this.label, this.view(), info, info !== null && this.#checkedPid === info.pid);
  }

  /**
   * Until the returned function is called, runs `wake` when the socket file is replaced (a
   * new HAProxy process bound it): its next run reads the process in full at once.
   */
  watch(wake: () => void): () => void {
    return (
      this.#d.port.watch?.(() => {
        this.#rest.forget();
        wake();
      }) ?? (() => undefined)
    );
  }

  /** HAProxy's master reloaded: the new worker is looked for at once and then often, for a few seconds. */
  expectNewProcess(): void {
    this.#newWorker.begin(this.#d.now());
  }

  /** How soon the lane runs again when that is sooner than its interval (a new worker looked for), else null. */
  soonerMs(): number | null {
    return this.#newWorker.soonerMs();
  }

  /** The view, checked against the process on the socket now (/readyz); `newProcess`: the lane should run at once. */
  confirm(): Promise<Confirmed> {
    return this.#readiness.confirm();
  }

  /**
   * One run: observe, plan, apply, verify, report. A lane at rest whose HAProxy holds what
   * its last quiet run read stops after observing. What goes wrong comes back as findings.
   */
  async run(): Promise<SocketReport> {
    const started = this.#d.now();
    const progress = await this.#pass().catch((err: unknown) => this.#softly(err));
    this.#ended(progress);
    return { lane: 'socket', socket: this.label, ...progress, durationMs: this.#d.now() - started };
  }

  async #pass(): Promise<Progress> {
    const rest = await this.#rest.check(this.#d.port, this.#names(), this.#revisions(), this.#info, this.#d.now);
    if (rest.unchanged !== null) {
      this.#info = rest.info;
      return rest.unchanged;
    }
    this.#rest.forget(); // until a run ends quiet
    const seen = await this.#observe(rest.read);
    if (seen.done !== null) return seen.done;
    const planned = this.#plan(seen);
    const applied = await this.#apply(planned);
    const verified = applied.sent ? await this.#verify(planned.work) : NOT_VERIFIED;
    return this.#report(seen, planned, applied, verified);
  }

  /** A soft error (HAProxy went away mid-run, a reply that cannot be read) ends the run as a finding, for the next to retry; a hard one ends the agent. */
  #softly(err: unknown): Progress {
    if (!(err instanceof AgentError) || !err.soft) throw err;
    const kind = err instanceof HaproxyProtocolError ? 'haproxy-unreadable' : 'haproxy-unreachable';
    return { ...EMPTY, findings: [{ kind, socket: this.label, detail: err.message }] };
  }

  /** How a run ended, for what outlives it: a fatal finding ends the agent; whether HAProxy was reached (/readyz); a new worker looked for. */
  #ended(progress: Progress): void {
    const fatal = progress.findings.find((f) => severityOf(f) === 'fatal');
    if (fatal !== undefined) throw new HaproxyConfigError(findingText(fatal));
    // A peer that does not answer like HAProxy is no HAProxy to be ready with.
    const away = progress.findings.find(
      (f) => f.kind === 'haproxy-unreachable' || f.kind === 'haproxy-stopping' || f.kind === 'haproxy-unreadable',
    );
    this.#readiness.reached(away);
    // A reloaded master's new worker, found (and filled), or looked for long enough.
    this.#newWorker.ended(progress.reload !== null, this.#d.now());
    if (away?.kind === 'haproxy-unreachable') this.#d.writer.unreachable(this.#d.port, this.#d.backends);
  }

  /**
   * Observe: HAProxy's state (`read` when the rest check read it already), whether it is a
   * new process (reloaded, restarted), and at first contact with a process what its
   * configuration says and whether the socket may write. `done` when there is nothing to
   * plan: a stopping process, or a check that ends the agent.
   */
  async #observe(read: Snapshot | null): Promise<(Seen & { done: null }) | { done: Progress }> {
    const { port, backends } = this.#d;
    const socket = this.label;
    const snap = read ?? (await port.observe(this.#names()));
    if (snap.info.stopping) return { done: { ...EMPTY, findings: [{ kind: 'haproxy-stopping', socket, pid: snap.info.pid }] } };
    const why = reloadReason(this.#info, snap.info);
    this.#info = snap.info;
    // A new process has had nothing applied yet, whatever the last one had.
    const settled = this.#readiness.read(snap.info);
    if (why !== null) this.#resyncPending = true;
    const reload = why === null ? null : { reason: why, version: snap.info.version };
    const findings: Finding[] = why === null ? [] : restoredWithoutAddress(socket, snap, backends);
    if (this.#checkedPid !== snap.info.pid) for (const f of await this.#checkProcess(snap)) findings.push(f);
    if (findings.some((f) => severityOf(f) === 'fatal')) return { done: { ...EMPTY, reload, findings } };
    return { snap, reload, findings, settled, done: null };
  }

  /** Plan (pure, decide.ts): every backend's steps from what HAProxy holds, what DNS has in force and what the lane remembers. */
  #plan(seen: Seen): Planned {
    const findings: Finding[] = [];
    const dynamic = this.#d.dynamicServers && dynamicAllowed(this.label, seen.snap, findings);
    const planned = planBackends(this.label, seen.snap, this.#d.backends, {
      now: this.#d.now(),
      drainMs: this.#d.drainMs,
      weights: this.#d.weights,
      staticWeights: this.#staticWeights,
      memory: this.#memory,
      resync: this.#resyncPending,
      dynamic,
      maxServers: this.#d.maxEndpoints,
    });
    for (const f of planned.findings) findings.push(f);
    const capped = new Map<string, number>();
    for (const f of planned.findings) if (f.kind === 'servers-capped') capped.set(f.backend, f.endpoints);
    this.#record.planned(this.#d.now(), seen.snap, planned.work, capped, dynamic);
    return { ...planned, findings };
  }

  /**
   * Apply: the writer carries the steps out (or prints them) and the replies are judged.
   * Once HAProxy took the steps, what they planned is the lane's memory.
   */
  async #apply(planned: Planned): Promise<Applied> {
    const { port, backends, writer } = this.#d;
    const socket = this.label;
    const { work } = planned;
    const sessions = await liveSessionsOfLeaving(port, work);
    this.#record.sessionsRead(this.#d.now(), sessions);
    const acted = await writer.act(port, work, backends).then(
      (results) => ({ results, failed: null }),
      (err: unknown) => {
        if (!(err instanceof AgentError) || !err.soft) throw err;
        return { results: [], failed: { kind: 'apply-failed', socket, detail: err.message } as const };
      },
    );
    const { results, failed } = acted;
    if (failed !== null) return { sent: false, results, findings: [failed], sessions };
    if (results === null) return { sent: false, results: [], findings: [], sessions }; // a dry run
    for (const w of work) this.#memory.set(w.spec.id, w.plan.memory);
    this.#resyncPending = false;
    const judged = judgeResults(socket, results);
    for (const id of judged.staticWeights) {
      if (this.#staticWeights.has(id)) continue;
      this.#staticWeights.add(id);
      judged.findings.push({ kind: 'static-weights', backend: id, socket, algo: 'static' });
    }
    return { sent: true, results, findings: judged.findings, sessions, rejected: judged.failed, at: this.#d.now() };
  }

  /** Verify: a second read of the backends that got steps; changes apply asynchronously, so some may not show yet. */
  async #verify(work: readonly Work[]): Promise<Verified> {
    const touched = work.filter((w) => w.steps.length > 0);
    if (touched.length === 0) return NOT_VERIFIED;
    const findings: Finding[] = [];
    const verified = await this.#d.port.observe([...new Set(touched.map((w) => w.spec.backend))]).catch((err: unknown) => {
      if (!(err instanceof AgentError) || !err.soft) throw err;
      findings.push({ kind: 'haproxy-unreachable', socket: this.label, detail: err.message });
      return null;
    });
    const missed = verified === null ? [] : notTaken(this.label, touched, verified);
    if (verified !== null) this.#record.verified(this.#d.now(), verified.backends);
    for (const f of missed) findings.push(f);
    const failed = new Set<string>();
    for (const w of touched) if (verified === null || missed.some((m) => 'backend' in m && m.backend === w.spec.id)) failed.add(w.spec.id);
    return { findings, failed };
  }

  /**
   * Report: what this run found, planned, sent and saw taken; which backends this process
   * has had applied (/readyz) and how long each DNS change took to reach it. A run that
   * found nothing to do, with no drain running, leaves the lane at rest.
   */
  #report(seen: Seen, planned: Planned, applied: Applied, verified: Verified): Progress {
    const findings: Finding[] = [];
    for (const list of [seen.findings, planned.findings, applied.findings, verified.findings]) for (const f of list) findings.push(f);
    // NXDOMAIN, NODATA or refused endpoints before any answer: HAProxy is left as it is, and that is what DNS says.
    for (const id of planned.leftAsDnsSays) seen.settled.add(id);
    const { work, servers, unplaced } = planned;
    const touched = work.filter((w) => w.steps.length > 0);
    const latency = applied.sent
      ? acknowledge(this.#d.backends, work, applied, verified, this.#ackedRevision, seen.settled)
      : new Map<string, number>();
    const { changes, dynamic } = applied.sent ? changesOf(touched, applied.sessions) : { changes: [], dynamic: [] };
    const progress: Progress = { reload: seen.reload, findings, servers, unplaced, results: applied.results, changes, dynamic, latency };
    const quiet = progress.results.length === 0 && findings.every((f) => severityOf(f) === 'warning');
    const draining = [...this.#memory.values()].some((m) => m.drainingSince.size > 0);
    this.#rest.ended(quiet && !draining, progress, this.#revisions(), seen.snap, this.#d.now());
    return progress;
  }

  #names(): string[] {
    return [...new Set(this.#d.backends.map((b) => b.spec.backend))];
  }

  #revisions(): string {
    return this.#d.backends.map((b) => String(b.revision.n)).join(',');
  }

  /** First contact with a HAProxy process: its configuration, and whether the socket may write. */
  async #checkProcess(snap: Snapshot): Promise<Finding[]> {
    const { port, writer, cookieKey, weights } = this.#d;
    const specs = this.#d.backends.map((b) => b.spec);
    const checked = await checkContact(
      this.label,
      snap,
      specs,
      { port, writer },
      { cookieKey, weights, firstContact: this.#checkedPid === null },
    );
    if (!checked.checked) return checked.findings;
    for (const f of checked.findings) if (f.kind === 'static-weights') this.#staticWeights.add(f.backend);
    this.#checkedPid = snap.info.pid;
    return checked.findings;
  }
}
