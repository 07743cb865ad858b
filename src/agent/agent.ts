import type { Logger } from 'pino';
import type { BackendSpec, Config } from '../cli/config.ts';
import { renderChange } from '../core/commands.ts';
import { dynamicCookie } from '../core/cookie.ts';
import { normalizeEndpoints } from '../core/desired.ts';
import { applyHold, initialHold, type DnsOutcome, type HoldState } from '../core/hold.ts';
import { emptyMemory, planBackend, type Plan, type SlotMemory, type WeightPolicy } from '../core/plan.ts';
import { endpointKey, type Endpoint, type Slot } from '../core/types.ts';
import type { DnsAnswer, RecordSpec } from '../dns/resolver.ts';
import { AgentError, DnsError, HaproxyConfigError, isSoft } from '../errors.ts';
import { expectedStateColumns, type ShowInfo } from '../haproxy/parse.ts';
import type { BackendView, CommandResult, HaproxyPort, Snapshot } from '../haproxy/runtime.ts';
import type { AgentMetrics } from '../observability/metrics.ts';

export type AgentDeps = Readonly<{
  config: Config;
  resolver: { resolve(spec: RecordSpec): Promise<DnsAnswer> };
  haproxies: readonly HaproxyPort[];
  log: Logger;
  now: () => number;
  metrics: AgentMetrics | null;
  /** Where --dry-run prints (stdout in production). */
  out: (line: string) => void;
}>;

/** How one pass went; `--once` turns it into the exit code, /readyz into readiness. */
export type PassReport = Readonly<{
  ok: boolean;
  /** One line per thing that kept HAProxy from matching DNS. */
  problems: readonly string[];
  commands: number;
  /** The smallest TTL of the answers this pass got, null when none answered. */
  ttlSeconds: number | null;
}>;

type BackendState = {
  readonly spec: BackendSpec;
  hold: HoldState;
  /** Endpoints in force this pass (after hold); null: none known yet. */
  endpoints: Endpoint[] | null;
  /** When DNS first gave endpoints HAProxy has not acknowledged yet (update-latency histogram). */
  changedAt: number | null;
};

/** One backend's plan for one socket, and the commands it renders to. */
type Work = Readonly<{ b: BackendState; plan: Plan; commands: string[] }>;

type SocketState = {
  readonly port: HaproxyPort;
  info: ShowInfo | null;
  reachable: boolean | null;
  /** The HAProxy process (pid) whose admin level and backends were checked. */
  checkedPid: number | null;
  readonly memory: Map<string, SlotMemory>;
  readonly weightsOverride: Map<string, WeightPolicy>;
  /** Backend id -> when HAProxy last matched the endpoints in force, through this socket. */
  readonly syncedAt: Map<string, number>;
  /** A reload or restart was seen and not yet answered by a full push. */
  resyncPending: boolean;
  /** The last `show stat` read, and the HAProxy process it came from. */
  stats: { pid: number; views: ReadonlyMap<string, BackendView | null> } | null;
};

/** Remembers the last value logged under a key, so a repeated condition is logged once. */
class LogOnce {
  readonly #last = new Map<string, string>();
  changed(key: string, value: string): boolean {
    if (this.#last.get(key) === value) return false;
    this.#last.set(key, value);
    return true;
  }
  clear(key: string): boolean {
    return this.#last.delete(key);
  }
}

/**
 * One level-based pass over every backend: ask DNS, read HAProxy, plan, send, verify.
 * Nothing is planned from "what changed last time": each pass compares the two snapshots,
 * so drift and missed commands are repaired by the next pass.
 */
export class Agent {
  readonly #d: AgentDeps;
  readonly #backends: BackendState[];
  readonly #sockets: SocketState[];
  readonly #once = new LogOnce();
  readonly #printed = new LogOnce();
  #lastPass: { at: number; ok: boolean } | null = null;

  constructor(deps: AgentDeps) {
    this.#d = deps;
    this.#backends = deps.config.backends.map((spec) => ({ spec, hold: initialHold, endpoints: null, changedAt: null }));
    this.#sockets = deps.haproxies.map((port) => ({
      port,
      info: null,
      reachable: null,
      checkedPid: null,
      memory: new Map(),
      weightsOverride: new Map(),
      resyncPending: false,
      syncedAt: new Map(),
      stats: null,
    }));
  }

  /**
   * For /readyz: when the last pass ended, and per backend how old the DNS answer in force
   * is and how long ago every socket last matched it (null: never).
   */
  status(now: number): {
    lastPass: { at: number; ok: boolean } | null;
    backends: Map<string, { answerAgeMs: number | null; syncedAgeMs: number | null }>;
  } {
    const backends = new Map<string, { answerAgeMs: number | null; syncedAgeMs: number | null }>();
    for (const b of this.#backends) {
      const synced = this.#sockets.map((s) => s.syncedAt.get(b.spec.id));
      const oldest = synced.some((t) => t === undefined) ? null : Math.min(...synced.map((t) => t ?? 0));
      backends.set(b.spec.id, {
        answerAgeMs: b.hold.good === null ? null : now - b.hold.good.at,
        syncedAgeMs: oldest === null ? null : now - oldest,
      });
    }
    return { lastPass: this.#lastPass, backends };
  }

  async pass(): Promise<PassReport> {
    const problems: string[] = [];
    const ttls = await Promise.all(this.#backends.map((b) => this.#resolve(b, problems)));
    const results = await Promise.allSettled(this.#sockets.map((s) => this.#syncSocket(s)));
    let commands = 0;
    for (const r of results) {
      if (r.status === 'rejected') {
        // Hard errors (configuration, a protocol we cannot read) end the agent; soft ones
        // (HAProxy went away mid-pass) wait for the next pass.
        if (!isSoft(r.reason)) throw r.reason;
        problems.push(r.reason instanceof Error ? r.reason.message : String(r.reason));
        continue;
      }
      problems.push(...r.value.problems);
      commands += r.value.commands;
    }
    const ok = problems.length === 0;
    this.#lastPass = { at: this.#d.now(), ok };
    for (const b of this.#backends) this.#d.metrics?.passes.inc({ backend: b.spec.id, result: ok ? 'ok' : 'failed' });
    const answered = ttls.filter((t): t is number => t !== null);
    return { ok, problems, commands, ttlSeconds: answered.length === 0 ? null : Math.min(...answered) };
  }

  /** Resolves one backend's record and applies the hold timers; returns the answer's TTL. */
  async #resolve(b: BackendState, problems: string[]): Promise<number | null> {
    const { log, config, metrics } = this.#d;
    let outcome: DnsOutcome;
    let answer: DnsAnswer | null = null;
    try {
      answer = await this.#d.resolver.resolve(b.spec.record);
      outcome = answer.status === 'ok' ? { status: 'ok', endpoints: normalizeEndpoints(answer.endpoints) } : { status: answer.status };
    } catch (err) {
      if (!(err instanceof DnsError)) throw err;
      outcome = { status: 'error', kind: err.kind, message: err.message };
    }
    const now = this.#d.now();
    const held = applyHold(b.hold, outcome, now, { holdMs: config.holdMs, holdNxMs: config.holdNxMs });
    b.hold = held.state;
    if (held.endpoints !== null && !sameEndpoints(b.endpoints, held.endpoints)) b.changedAt ??= now;
    b.endpoints = held.endpoints === null ? null : [...held.endpoints];
    const record = describeRecord(b.spec.record);
    const e = held.event;
    if (e?.event === 'hold-started') {
      log.warn(
        {
          backend: b.spec.id,
          record,
          fault: e.kind,
          detail: e.message,
          answerAgeSeconds: seconds(e.answerAgeMs),
          endpointsInForce: b.endpoints?.length ?? null,
        },
        'DNS failing: holding the last good answer',
      );
    } else if (e?.event === 'hold-expired') {
      log.error(
        { backend: b.spec.id, record, fault: e.kind, answerAgeSeconds: seconds(e.answerAgeMs), endpointsDropped: e.endpointsDropped },
        'DNS hold expired: the servers leave',
      );
    } else if (e?.event === 'recovered') {
      log.info(
        { backend: b.spec.id, record, failedForSeconds: seconds(e.failedForMs), answerAgeSeconds: seconds(e.answerAgeMs) },
        'DNS answering again',
      );
    }
    if (answer?.status === 'ok' && answer.notes.length > 0 && this.#once.changed(`notes:${b.spec.id}`, answer.notes.join('|'))) {
      log.warn({ backend: b.spec.id, record, notes: answer.notes }, 'DNS answer had unusable records');
    }
    if (outcome.status !== 'ok')
      problems.push(`backend ${b.spec.id}: DNS ${record}: ${outcome.status === 'error' ? outcome.message : outcome.status.toUpperCase()}`);
    metrics?.endpoints.set({ backend: b.spec.id }, b.endpoints?.length ?? 0);
    if (b.hold.good !== null) metrics?.answerAge.set({ backend: b.spec.id }, (now - b.hold.good.at) / 1_000);
    return answer?.status === 'ok' ? answer.ttl : null;
  }

  async #syncSocket(sock: SocketState): Promise<{ problems: string[]; commands: number }> {
    const { log, config } = this.#d;
    const socket = sock.port.label;
    const names = [...new Set(this.#backends.map((b) => b.spec.backend))];
    let snap: Snapshot;
    try {
      snap = await sock.port.read(names, { stats: false });
      // `show stat` once per HAProxy process: backup flags, cookies and algorithm change only with it.
      if (sock.stats?.pid !== snap.info.pid) {
        snap = await sock.port.read(names, { stats: true });
        sock.stats = { pid: snap.info.pid, views: snap.backends };
      }
    } catch (err) {
      return { problems: [this.#unreachable(sock, err)], commands: 0 };
    }
    if (sock.reachable === false) log.info({ socket, version: snap.info.version, pid: snap.info.pid }, 'HAProxy reachable again');
    sock.reachable = true;
    if (snap.info.stopping) {
      return {
        problems: [`HAProxy socket ${socket}: answered by a stopping process (pid ${String(snap.info.pid)}); retrying`],
        commands: 0,
      };
    }
    // Kept until a pass pushes in full: a pass cut short by a soft error must not lose it.
    if (this.#detectReload(sock, snap.info)) sock.resyncPending = true;
    const resync = sock.resyncPending;
    if (sock.checkedPid !== snap.info.pid) await this.#checkHaproxy(sock, snap);

    const problems: string[] = [];
    const work: Work[] = [];
    for (const b of this.#backends) {
      const slots = this.#slotsOf(sock, snap, b, problems);
      if (slots === null) continue;
      this.#countServers(sock, b, slots);
      if (b.endpoints === null) {
        problems.push(`backend ${b.spec.id}: no DNS answer yet; HAProxy left as it is`);
        continue;
      }
      const plan = planBackend({
        slots,
        endpoints: b.endpoints,
        now: this.#d.now(),
        drainMs: config.drainMs,
        weights: sock.weightsOverride.get(b.spec.id) ?? config.weights,
        memory: sock.memory.get(b.spec.id) ?? emptyMemory,
        resync,
      });
      this.#reportPlacement(sock, b, plan, problems);
      const commands = plan.changes.flatMap((c) => renderChange(b.spec.backend, c));
      if (!config.dryRun) sock.memory.set(b.spec.id, plan.memory);
      work.push({ b, plan, commands });
    }

    if (!config.dryRun) await this.#logChanges(sock, names, work);
    if (config.dryRun) {
      this.#printDryRun(sock, work);
      return { problems, commands: 0 };
    }
    const all = work.flatMap((w) => w.commands);
    const failed = new Set<string>();
    const markSynced = (): void => {
      const at = this.#d.now();
      for (const w of work) if (!failed.has(w.b.spec.id)) sock.syncedAt.set(w.b.spec.id, at);
    };
    if (all.length === 0) {
      sock.resyncPending = false;
      markSynced();
      return { problems, commands: 0 };
    }

    let results: CommandResult[];
    try {
      results = await sock.port.apply(all);
    } catch (err) {
      if (err instanceof AgentError && err.soft) {
        log.warn({ socket, err: err.message }, 'sending commands failed; the next pass repairs what did not apply');
        return { problems: [`HAProxy socket ${socket}: ${err.message}`], commands: all.length };
      }
      throw err;
    }
    const ackAt = this.#d.now();
    sock.resyncPending = false;
    this.#checkResults(sock, work, results, problems, failed);
    for (const w of work) {
      // Commands without a DNS change (drain ending, drift, reload) are not update latency.
      if (w.commands.length === 0 || w.b.changedAt === null) continue;
      this.#d.metrics?.updateLatency.observe({ backend: w.b.spec.id }, (ackAt - w.b.changedAt) / 1_000);
      w.b.changedAt = null;
    }
    await this.#verify(sock, work, problems, failed);
    markSynced();
    return { problems, commands: all.length };
  }

  /**
   * One log line per change. A server leaving for maintenance is logged with its live
   * sessions, which need a fresh `show stat`; that read is made only then.
   */
  async #logChanges(sock: SocketState, names: readonly string[], work: readonly Work[]): Promise<void> {
    const socket = sock.port.label;
    const leaving = work.some((w) => w.plan.changes.some((c) => c.to.admin === 'maint' && c.from.admin !== 'maint'));
    let fresh: Snapshot | null = null;
    if (leaving) fresh = await sock.port.read(names, { stats: true }).catch(() => null);
    for (const w of work) {
      const stats = fresh?.backends.get(w.b.spec.backend)?.stats;
      for (const c of w.plan.changes) {
        const sessions = c.to.admin === 'maint' ? stats?.get(c.server)?.['scur'] : undefined;
        this.#d.log.info(
          {
            backend: w.b.spec.id,
            server: c.server,
            socket,
            reason: c.reason,
            from: describeTarget(c.from),
            to: describeTarget(c.to),
            ...(c.endpoint === null ? {} : { target: c.endpoint.target }),
            ...(sessions === undefined ? {} : { liveSessions: Number(sessions) }),
          },
          'server change',
        );
      }
    }
  }

  #unreachable(sock: SocketState, err: unknown): string {
    if (!(err instanceof AgentError) || !err.soft) throw err;
    if (sock.reachable !== false) {
      this.#d.log.warn({ socket: sock.port.label, err: err.message }, 'waiting for HAProxy');
    }
    sock.reachable = false;
    return err.message;
  }

  /** A new Pid, a new start time or a smaller uptime: HAProxy reloaded or restarted. */
  #detectReload(sock: SocketState, info: ShowInfo): boolean {
    const prev = sock.info;
    sock.info = info;
    if (prev === null) return false;
    let why: string | null = null;
    if (prev.pid !== info.pid) why = `pid ${String(prev.pid)} -> ${String(info.pid)}`;
    else if (prev.startTimeSec !== null && info.startTimeSec !== null && prev.startTimeSec !== info.startTimeSec)
      why = 'start time changed';
    else if (info.uptimeSec < prev.uptimeSec) why = `uptime went back from ${String(prev.uptimeSec)}s to ${String(info.uptimeSec)}s`;
    if (why === null) return false;
    this.#d.log.warn(
      { socket: sock.port.label, reason: why, version: info.version },
      'HAProxy reloaded or restarted: pushing every managed server again',
    );
    this.#d.metrics?.reloads.inc({ socket: sock.port.label });
    return true;
  }

  /**
   * Once per HAProxy process: the socket must be `level admin` (probed by setting a
   * server's weight to the value it already has), every backend must exist, and the
   * backend should hand out dynamic cookies.
   */
  async #checkHaproxy(sock: SocketState, snap: Snapshot): Promise<void> {
    const { log, config } = this.#d;
    const socket = sock.port.label;
    const expected = expectedStateColumns(snap.info.version);
    if (expected === null) {
      throw new HaproxyConfigError(
        `HAProxy at ${socket} is version ${snap.info.version}: expected 1.8 or later (the agent needs srv_port in "show servers state")`,
      );
    }
    for (const b of this.#backends) {
      const view = withStats(snap.backends.get(b.spec.backend), sock.stats?.views.get(b.spec.backend));
      if (view === null || view === undefined) {
        if (sock.checkedPid === null) {
          throw new HaproxyConfigError(
            `backend ${b.spec.backend} not found in HAProxy at ${socket}: expected a backend of that name in haproxy.cfg (check the --backend spelling)`,
          );
        }
        continue;
      }
      if (view.columns !== expected) {
        log.warn(
          { socket, version: snap.info.version, columns: view.columns, expected },
          'show servers state has another layout than this HAProxy version prints; reading it by its header',
        );
      }
      const algo = view.summary?.['algo'] ?? '';
      if (algo === 'static-rr' && config.weights === 'srv' && sock.weightsOverride.get(b.spec.id) !== 'ignore') {
        sock.weightsOverride.set(b.spec.id, 'ignore');
        log.warn(
          { backend: b.spec.id, socket, algo },
          'backend uses a static algorithm that only takes weights 0% and 100%: leaving weights alone (--weights ignore)',
        );
      }
      const sticky = stickinessProblem(view);
      if (sticky !== null)
        log.warn(
          { backend: b.spec.backend, socket, problem: sticky },
          `sticky sessions will not follow pods: add "dynamic-cookie-key <secret>" and "cookie SRVID insert dynamic" to backend ${b.spec.backend}`,
        );
      this.#checkCookieKey(b, view, socket);
    }
    if (!config.dryRun) {
      const probe = this.#backends
        .flatMap((b) => (snap.backends.get(b.spec.backend)?.servers ?? []).filter((s) => s.name.startsWith(b.spec.prefix)))
        .at(0);
      if (probe !== undefined && !(await sock.port.isAdmin(snap.info, probe))) {
        throw new HaproxyConfigError(
          `HAProxy socket ${socket} is not "level admin" (it answered "Permission denied" or a lower level): expected "stats socket ... level admin" in haproxy.cfg`,
        );
      }
    }
    sock.checkedPid = snap.info.pid;
  }

  #checkCookieKey(b: BackendState, view: BackendView, socket: string): void {
    const key = this.#d.config.cookieKey;
    if (key === null) return;
    for (const s of view.servers) {
      const shown = view.stats.get(s.name)?.['cookie'] ?? '';
      if (shown === '' || s.address === '-' || !s.name.startsWith(b.spec.prefix)) continue;
      if (dynamicCookie(key, s.address, s.port) !== shown) {
        this.#d.log.warn(
          { backend: b.spec.backend, server: s.name, socket },
          "--cookie-key differs from the backend's dynamic-cookie-key: the cookies shown in --dry-run will not be HAProxy's",
        );
        return;
      }
    }
  }

  #slotsOf(sock: SocketState, snap: Snapshot, b: BackendState, problems: string[]): Slot[] | null {
    const socket = sock.port.label;
    const view = snap.backends.get(b.spec.backend);
    if (view === null || view === undefined) {
      const msg = `backend ${b.spec.backend} not found in HAProxy at ${socket}`;
      if (this.#once.changed(`missing:${socket}:${b.spec.id}`, '1')) this.#d.log.error({ backend: b.spec.id, socket }, msg);
      problems.push(msg);
      return null;
    }
    this.#once.clear(`missing:${socket}:${b.spec.id}`);
    const managed = view.servers.filter((s) => s.name.startsWith(b.spec.prefix));
    const noAddress = managed.filter((s) => s.address === '-');
    if (noAddress.length > 0) {
      const names = noAddress.map((s) => s.name).join(',');
      const msg = `backend ${b.spec.backend}: servers ${names} have no IP address (FQDN or init-addr none), which "set server addr" cannot change: declare the slots with an IP literal, e.g. "server-template srv 10 127.0.0.1:9 check disabled"`;
      if (noAddress.length === managed.length) throw new HaproxyConfigError(msg);
      if (this.#once.changed(`noaddr:${socket}:${b.spec.id}`, names))
        this.#d.log.error({ backend: b.spec.id, socket, servers: names }, msg);
    }
    if (managed.length === 0) {
      throw new HaproxyConfigError(
        `backend ${b.spec.backend} has no servers${b.spec.prefix === '' ? '' : ` whose name starts with "${b.spec.prefix}"`}: expected slots such as "server-template ${b.spec.prefix === '' ? 'srv' : b.spec.prefix} 10 127.0.0.1:9 check disabled"`,
      );
    }
    return managed
      .filter((s) => s.address !== '-')
      .map((s) => {
        const stat = sock.stats?.views.get(b.spec.backend)?.stats.get(s.name);
        return {
          name: s.name,
          id: s.id,
          address: s.address,
          port: s.port,
          admin: s.admin,
          opState: s.opState,
          checked: s.checked,
          weight: s.weight,
          initialWeight: s.initialWeight,
          backup: stat?.['bck'] === '1',
          sessions: Number(stat?.['scur'] ?? 0) || 0,
          cookie: stat?.['cookie'] ?? '',
        };
      });
  }

  #countServers(sock: SocketState, b: BackendState, slots: readonly Slot[]): void {
    const m = this.#d.metrics;
    if (m === null) return;
    const counts = { ready: 0, drain: 0, maint: 0, free: 0 };
    for (const s of slots) counts[s.admin === 'maint' ? 'free' : s.admin]++;
    for (const [state, n] of Object.entries(counts)) m.servers.set({ backend: b.spec.id, socket: sock.port.label, state }, n);
  }

  #reportPlacement(sock: SocketState, b: BackendState, plan: Plan, problems: string[]): void {
    const { log, metrics } = this.#d;
    const socket = sock.port.label;
    metrics?.unplaced.set({ backend: b.spec.id }, plan.unplaced.length);
    const unplaced = plan.unplaced.map(endpointKey).join(',');
    if (this.#once.changed(`unplaced:${socket}:${b.spec.id}`, unplaced) && plan.unplaced.length > 0) {
      log.warn(
        { backend: b.spec.id, socket, missingSlots: plan.unplaced.length, endpoints: plan.unplaced.map(endpointKey) },
        'more endpoints than server slots: these get none (add slots to the server-template)',
      );
    }
    if (plan.unplaced.length > 0) problems.push(`backend ${b.spec.id}: ${String(plan.unplaced.length)} endpoints have no server slot`);
    const unused = plan.unused.map(endpointKey).join(',');
    if (this.#once.changed(`unused:${socket}:${b.spec.id}`, unused) && plan.unused.length > 0) {
      log.warn(
        { backend: b.spec.id, socket, endpoints: plan.unused.map((e) => `${endpointKey(e)} priority ${String(e.priority)}`) },
        'endpoints of a less preferred SRV priority are unused: the backend has no backup slots',
      );
    }
    for (const server of plan.drainsCut) {
      log.warn({ backend: b.spec.id, socket, server }, 'no free slot: cutting the longest drain short for a new endpoint');
    }
  }

  #checkResults(
    sock: SocketState,
    work: readonly Work[],
    results: readonly CommandResult[],
    problems: string[],
    failed: Set<string>,
  ): void {
    const { log, metrics } = this.#d;
    const socket = sock.port.label;
    for (const r of results) {
      metrics?.commands.inc({ socket, result: r.verdict.ok ? 'ok' : 'rejected' });
      if (r.verdict.ok) continue;
      if (r.verdict.reason === 'permission') {
        throw new HaproxyConfigError(
          `HAProxy socket ${socket} answered "Permission denied" to "${r.command}": expected "stats socket ... level admin" in haproxy.cfg`,
        );
      }
      log.error({ socket, command: r.command, reply: r.reply }, 'HAProxy rejected a command');
      problems.push(`HAProxy socket ${socket} rejected "${r.command}": ${r.reply}`);
      const w = work.find((x) => x.commands.includes(r.command));
      if (w !== undefined) failed.add(w.b.spec.id);
      if (r.verdict.reason === 'static-weights') {
        if (w !== undefined && sock.weightsOverride.get(w.b.spec.id) !== 'ignore') {
          sock.weightsOverride.set(w.b.spec.id, 'ignore');
          log.warn(
            { backend: w.b.spec.id, socket },
            'backend uses a static algorithm that only takes weights 0% and 100%: leaving weights alone (--weights ignore)',
          );
        }
      }
    }
  }

  /** Changes apply asynchronously (2.9+ addr, 1.8 state at the end of the loop): read again, apart. */
  async #verify(sock: SocketState, work: readonly Work[], problems: string[], failed: Set<string>): Promise<void> {
    const socket = sock.port.label;
    const touched = work.filter((w) => w.commands.length > 0);
    let snap: Snapshot;
    try {
      snap = await sock.port.read([...new Set(touched.map((w) => w.b.spec.backend))], { stats: false });
    } catch (err) {
      problems.push(this.#unreachable(sock, err));
      for (const w of touched) failed.add(w.b.spec.id);
      return;
    }
    for (const w of touched) {
      const byName = new Map((snap.backends.get(w.b.spec.backend)?.servers ?? []).map((x) => [x.name, x]));
      const missed = [...w.plan.assignment].filter(([server, e]) => {
        const s = byName.get(server);
        return s === undefined || s.admin !== 'ready' || endpointKey(s) !== endpointKey(e);
      });
      if (missed.length > 0) {
        const servers = missed.map(([server]) => server);
        this.#d.log.warn({ backend: w.b.spec.id, socket, servers }, 'servers did not take the change; the next pass tries again');
        problems.push(`backend ${w.b.spec.id}: servers ${servers.join(',')} did not take the change`);
        failed.add(w.b.spec.id);
      }
    }
  }

  #printDryRun(sock: SocketState, work: readonly Work[]): void {
    const lines: string[] = [];
    const key = this.#d.config.cookieKey;
    for (const w of work) {
      lines.push(...endpointLines(w.b), ...w.commands);
      for (const [server, e] of [...w.plan.assignment].sort((x, y) => x[0].localeCompare(y[0], 'en', { numeric: true }))) {
        const cookie = key === null ? '' : ` cookie ${dynamicCookie(key, e.address, e.port)}`;
        lines.push(`# ${w.b.spec.backend}/${server} ${endpointKey(e)} ready${cookie}`);
      }
    }
    this.#print(`dry:${sock.port.label}`, lines);
  }

  /** --dry-run without HAProxy: what DNS gave, so the operator sees what would be applied. */
  printEndpoints(): void {
    this.#print('dry:endpoints', this.#backends.flatMap(endpointLines));
  }

  #print(key: string, lines: readonly string[]): void {
    if (!this.#printed.changed(key, lines.join('\n'))) return;
    for (const l of lines) this.#d.out(l);
  }

  /** Whether some socket could not be read in the last pass (for --dry-run's fallback). */
  get haproxyUnreachable(): boolean {
    return this.#sockets.some((s) => s.reachable === false);
  }
}

function endpointLines(b: BackendState): string[] {
  const record = describeRecord(b.spec.record);
  if (b.endpoints === null) return [`# ${b.spec.id} <- ${record}: no answer`];
  const out = [`# ${b.spec.id} <- ${record}: ${String(b.endpoints.length)} endpoints`];
  for (const e of b.endpoints) {
    out.push(`#   ${endpointKey(e)} weight ${String(e.weight)} priority ${String(e.priority)} ttl ${String(e.ttl)} target ${e.target}`);
  }
  return out;
}

/** A fresh state dump with the `show stat` columns of the last stats read. */
function withStats(view: BackendView | null | undefined, cached: BackendView | null | undefined): BackendView | null | undefined {
  if (view === null || view === undefined || cached === null || cached === undefined) return view;
  return { servers: view.servers, stats: cached.stats, summary: cached.summary, columns: view.columns };
}

function stickinessProblem(view: BackendView): string | null {
  const cookieName = view.summary?.['cookie'] ?? '';
  if (cookieName === '') return 'the backend sets no cookie';
  const withAddress = view.servers.filter((s) => s.address !== '-');
  if (withAddress.length > 0 && withAddress.every((s) => (view.stats.get(s.name)?.['cookie'] ?? '') === '')) {
    return 'servers carry no cookie: dynamic cookies are off or dynamic-cookie-key is missing';
  }
  return null;
}

function sameEndpoints(a: readonly Endpoint[] | null, b: readonly Endpoint[]): boolean {
  if (a === null || a.length !== b.length) return false;
  return a.every((e, i) => {
    const o = b[i];
    return o !== undefined && endpointKey(e) === endpointKey(o) && e.weight === o.weight && e.priority === o.priority;
  });
}

function describeRecord(r: RecordSpec): string {
  return r.kind === 'srv' ? r.name : `${r.host}:${String(r.port)}`;
}

function describeTarget(t: { address: string; port: number; weight: number | null; admin: string }): string {
  return `${endpointKey(t)} ${t.admin}${t.weight === null ? '' : ` weight ${String(t.weight)}`}`;
}

const seconds = (ms: number | null): number | null => (ms === null ? null : Math.round(ms / 100) / 10);
