import type { BackendSpec } from '../config/model.ts';
import { findingText, severityOf, type Finding } from '../core/findings.ts';
import type { SlotMemory, WeightPolicy } from '../core/plan.ts';
import type { SlotTarget } from '../core/types.ts';
import { AgentError, HaproxyConfigError, HaproxyProtocolError } from '../errors.ts';
import type { ShowInfo } from '../haproxy/parse.ts';
import type { HaproxyPort, Snapshot } from '../haproxy/runtime.ts';
import { adminProbe, checkProcess, dynamicAllowed, reloadReason, restoredWithoutAddress } from './checks.ts';
import { judgeResults, notTaken, planBackends, snapshotPrint, type BackendInForce, type Work } from './decide.ts';
import type { Writer } from './writers.ts';
import { changesOf, EMPTY, type Progress, type SocketReport } from './socket-report.ts';
import { SocketReadiness, type Confirmed, type SocketView } from './socket-readiness.ts';

export type { DynamicChange, ServerChange, SocketReport } from './socket-report.ts';
export type { Confirmed, SocketView } from './socket-readiness.ts';

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
 * One HAProxy socket, on its own schedule: observe (DNS in force, HAProxy's state), decide
 * (checks, slots, plans; pure, in decide.ts), act (the writer), verify, report. A hung or
 * dead socket delays only this lane.
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
  /** The last full run that found nothing to do: what it reported, the DNS revisions it matched, what it read. */
  #rest: { at: number; revisions: string; progress: Progress; print: string } | null = null;
  /** Until when a reloaded master's new worker is looked for, every RELOAD_POLL_MS (--master-socket); null: not. */
  #expectUntil: number | null = null;
  /** What the full run in progress read, for #pass to take its print. */
  #snap: Snapshot | null = null;

  constructor(deps: SocketLaneDeps) {
    this.#d = deps;
    this.label = deps.port.label;
    this.#readiness = new SocketReadiness(this.label, deps.port);
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

  /**
   * Until the returned function is called, runs `wake` when the socket file is replaced (a
   * new HAProxy process bound it): its next run reads the process in full at once.
   */
  watch(wake: () => void): () => void {
    return (
      this.#d.port.watch?.(() => {
        this.#rest = null;
        wake();
      }) ?? (() => undefined)
    );
  }

  /** HAProxy's master reloaded: the new worker is looked for at once and then every RELOAD_POLL_MS, for up to RELOAD_WAIT_MS. */
  expectNewProcess(): void {
    this.#expectUntil = this.#d.now() + RELOAD_WAIT_MS;
  }

  /** How soon the lane runs again when that is sooner than its interval (a new worker looked for), else null. */
  soonerMs(): number | null {
    return this.#expectUntil === null ? null : RELOAD_POLL_MS;
  }

  /** The view, checked against the process on the socket now (/readyz); `newProcess`: the lane should run at once. */
  confirm(): Promise<Confirmed> {
    return this.#readiness.confirm();
  }

  async run(): Promise<SocketReport> {
    const started = this.#d.now();
    const progress: Progress = await this.#pass().catch((err: unknown) => {
      // Soft errors (HAProxy went away mid-run, a reply that cannot be read) wait for the next run; hard ones end the agent.
      if (!(err instanceof AgentError) || !err.soft) throw err;
      const kind = err instanceof HaproxyProtocolError ? 'haproxy-unreadable' : 'haproxy-unreachable';
      return { ...EMPTY, findings: [{ kind, socket: this.label, detail: err.message }] };
    });
    const fatal = progress.findings.find((f) => severityOf(f) === 'fatal');
    if (fatal !== undefined) throw new HaproxyConfigError(findingText(fatal));
    // A peer that does not answer like HAProxy is no HAProxy to be ready with.
    const away = progress.findings.find(
      (f) => f.kind === 'haproxy-unreachable' || f.kind === 'haproxy-stopping' || f.kind === 'haproxy-unreadable',
    );
    this.#readiness.reached(away);
    // A reloaded master's new worker, found (and filled), or looked for long enough.
    if (this.#expectUntil !== null && (progress.reload !== null || this.#d.now() >= this.#expectUntil)) this.#expectUntil = null;
    if (away?.kind === 'haproxy-unreachable') this.#d.writer.unreachable(this.#d.port, this.#d.backends);
    return { lane: 'socket', socket: this.label, ...progress, durationMs: this.#d.now() - started };
  }

  async #pass(): Promise<Progress> {
    const rest = await this.#atRest();
    if (rest.progress !== null) return rest.progress;
    const progress = await this.#fullPass(rest.snap);
    const quiet = progress.results.length === 0 && progress.findings.every((f) => severityOf(f) === 'warning');
    const draining = [...this.#memory.values()].some((m) => m.drainingSince.size > 0);
    const snap = this.#snap;
    this.#snap = null; // kept only for its print: 1000 parsed rows are not held between runs
    this.#rest =
      quiet && !draining && snap !== null
        ? { at: this.#d.now(), revisions: this.#revisions(), progress, print: snapshotPrint(snap) }
        : null;
    return progress;
  }

  /**
   * A run at rest: when the last full run found nothing to do, no drain is running and DNS
   * has not changed since, a full run would find nothing either while HAProxy holds what
   * that run read. The lane reads `show info` alone and checks it is the same process; every
   * drift-check bound it reads the servers' state too, and plans again only when it
   * differs: what someone else changed on the socket is repaired within that bound.
   * Returns what to report, or null and what was read, for the full run.
   */
  async #atRest(): Promise<{ progress: Progress | null; snap: Snapshot | null }> {
    const rest = this.#rest;
    if (rest === null || rest.revisions !== this.#revisions()) return { progress: null, snap: null };
    const same = { progress: { ...rest.progress, results: [], changes: [], dynamic: [], latency: new Map<string, number>() }, snap: null };
    const checkDrift = this.#d.now() - rest.at >= this.#d.driftCheckMs;
    const snap = checkDrift ? await this.#d.port.observe(this.#names()) : null;
    const info = snap?.info ?? (await this.#d.port.info());
    const prev = this.#info;
    if (info.stopping || prev === null || reloadReason(prev, info) !== null) return { progress: null, snap };
    if (snap !== null && snapshotPrint(snap) !== rest.print) return { progress: null, snap };
    this.#info = info;
    if (snap !== null) rest.at = this.#d.now();
    return same;
  }

  #names(): string[] {
    return [...new Set(this.#d.backends.map((b) => b.spec.backend))];
  }

  #revisions(): string {
    return this.#d.backends.map((b) => String(b.revision.n)).join(',');
  }

  async #fullPass(read: Snapshot | null): Promise<Progress> {
    this.#rest = null; // until this run ends quiet
    const { port, backends, writer } = this.#d;
    const socket = this.label;
    const specs = backends.map((b) => b.spec);

    // Observe
    const snap = read ?? (await port.observe(this.#names()));
    this.#snap = snap;
    if (snap.info.stopping) return { ...EMPTY, findings: [{ kind: 'haproxy-stopping', socket, pid: snap.info.pid }] };
    const why = reloadReason(this.#info, snap.info);
    this.#info = snap.info;
    // A new process has had nothing applied yet, whatever the last one had.
    const settled = this.#readiness.read(snap.info);
    if (why !== null) this.#resyncPending = true;
    const reload = why === null ? null : { reason: why, version: snap.info.version };
    const findings: Finding[] = why === null ? [] : restoredWithoutAddress(socket, snap, backends);
    if (this.#checkedPid !== snap.info.pid) for (const f of await this.#checkProcess(snap, specs)) findings.push(f);
    if (findings.some((f) => severityOf(f) === 'fatal')) return { ...EMPTY, reload, findings };

    // Decide
    const dynamic = this.#d.dynamicServers && dynamicAllowed(socket, snap, findings);
    const planned = planBackends(socket, snap, backends, {
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
    // NXDOMAIN, NODATA or refused endpoints before any answer: HAProxy is left as it is, and that is what DNS says.
    for (const id of planned.leftAsDnsSays) settled.add(id);
    const { work, servers, unplaced } = planned;

    // Act
    const sessions = await this.#liveSessionsOfLeaving(work);
    const results = await writer.act(port, work, backends).catch((err: unknown) => {
      if (err instanceof AgentError && err.soft) {
        findings.push({ kind: 'apply-failed', socket, detail: err.message });
        return [];
      }
      throw err;
    });
    const base = {
      reload,
      findings,
      servers,
      unplaced,
      results: results ?? [],
      changes: [],
      dynamic: [],
      latency: new Map<string, number>(),
    };
    if (results === null || findings.some((f) => f.kind === 'apply-failed')) return base;
    for (const w of work) this.#memory.set(w.spec.id, w.plan.memory);
    const ackAt = this.#d.now();
    this.#resyncPending = false;
    const judged = judgeResults(socket, results);
    for (const f of judged.findings) findings.push(f);
    for (const id of judged.staticWeights) {
      if (this.#staticWeights.has(id)) continue;
      this.#staticWeights.add(id);
      findings.push({ kind: 'static-weights', backend: id, socket, algo: 'static' });
    }
    const failed = judged.failed;
    const touched = work.filter((w) => w.steps.length > 0);
    if (touched.length > 0) {
      const verified = await port.observe([...new Set(touched.map((w) => w.spec.backend))]).catch((err: unknown) => {
        if (!(err instanceof AgentError) || !err.soft) throw err;
        findings.push({ kind: 'haproxy-unreachable', socket, detail: err.message });
        return null;
      });
      const missed = verified === null ? [] : notTaken(socket, touched, verified);
      for (const f of missed) findings.push(f);
      for (const w of touched)
        if (verified === null || missed.some((m) => 'backend' in m && m.backend === w.spec.id)) failed.add(w.spec.id);
    }
    const latency = new Map<string, number>();
    for (const b of backends) {
      if (failed.has(b.spec.id) || !work.some((w) => w.spec.id === b.spec.id)) continue;
      // Only what DNS said counts: servers emptied because DNS never answered since start do not.
      if (b.known) settled.add(b.spec.id);
      const acked = this.#ackedRevision.get(b.spec.id);
      // Commands without a DNS change (drain ending, drift, reload) are not update latency.
      const sent = touched.some((w) => w.spec.id === b.spec.id);
      if (sent && acked !== b.revision.n) latency.set(b.spec.id, (ackAt - b.revision.at) / 1_000);
      this.#ackedRevision.set(b.spec.id, b.revision.n);
    }
    return { ...base, ...changesOf(touched, sessions), latency };
  }

  /** First contact with a HAProxy process: its configuration, and whether the socket may write. */
  async #checkProcess(snap: Snapshot, specs: readonly BackendSpec[]): Promise<Finding[]> {
    const firstContact = this.#checkedPid === null;
    const findings = checkProcess(this.label, snap, specs, { cookieKey: this.#d.cookieKey, firstContact, weights: this.#d.weights });
    if (findings.some((f) => severityOf(f) === 'fatal')) return findings;
    // Asked before anything is said of the configuration: a socket that may not write is the one thing to say.
    const { port, writer } = this.#d;
    const probe = adminProbe(snap, specs);
    const admin = (await port.isAdmin(snap.info)) ?? (probe === null ? null : await writer.probeAdmin(port, probe));
    if (admin === false) return [{ kind: 'not-admin', socket: this.label, command: null }];
    for (const f of findings) if (f.kind === 'static-weights') this.#staticWeights.add(f.backend);
    this.#checkedPid = snap.info.pid;
    return findings;
  }

  /** Live sessions of servers about to leave for maintenance, for their log line; a read only then. */
  async #liveSessionsOfLeaving(work: readonly Work[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const leaving = work.filter((w) => w.plan.changes.some((c) => leaves(c.from, c.to)));
    for (const w of leaving) {
      const sessions = await this.#d.port.sessions(w.spec.backend).catch(() => new Map<string, number>());
      for (const [server, n] of sessions) out.set(`${w.spec.backend}/${server}`, n);
    }
    return out;
  }
}

/** After the master reloaded: how often, and for how long, the socket is asked for the new worker. */
const RELOAD_POLL_MS = 20;
const RELOAD_WAIT_MS = 5_000;

const leaves = (from: SlotTarget, to: SlotTarget): boolean => to.admin === 'maint' && from.admin !== 'maint';
