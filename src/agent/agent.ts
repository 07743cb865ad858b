import { describeRecord, type BackendSpec, type RecordSpec } from '../config/model.ts';
import type { AddressPolicy } from '../core/address-policy.ts';
import { DEFAULT_MAX_ENDPOINTS } from '../core/desired.ts';
import { severityOf, type Finding } from '../core/findings.ts';
import type { HoldTimers } from '../core/hold.ts';
import type { WeightPolicy } from '../core/plan.ts';
import { STATE_VERSION, type SavedState } from '../core/saved-state.ts';
import type { AnsweredBy, DnsAnswer, ResolveOptions, SerialView } from '../dns/resolver.ts';
import type { HaproxyPort } from '../haproxy/runtime.ts';
import { DnsLane, type DnsReport, type DnsView } from './dns-lane.ts';
import type { Reporter } from './report.ts';
import { DNS_RUNS_IN_FLIGHT, JOIN_WITHIN, nextWaitMs, overlap, repeat, Wakeup, watch, type WaitOptions } from './schedule.ts';
import { SocketLane, type SocketReport, type SocketView } from './socket-lane.ts';
import { statusModel } from './status-model.ts';
import type { StatusModel } from './status-shape.ts';
import type { Writer } from './writers.ts';

export type AgentDeps = Readonly<{
  backends: readonly BackendSpec[];
  resolve: (spec: RecordSpec, o?: ResolveOptions) => Promise<DnsAnswer>;
  /** The serial of the zone holding a name, null when none came (--watch); `signal` aborting ends its question at once. */
  serial?: (name: string, signal?: AbortSignal) => Promise<number | null>;
  /** The zone's serial as last read and whether it is trusted (the status page); null when serials are not read. */
  serialView?: ((name: string) => SerialView | null) | undefined;
  /** Which nameserver last answered a record, and how fast (the status page); absent: not known. */
  answeredBy?: ((record: RecordSpec) => AnsweredBy | null) | undefined;
  ports: readonly HaproxyPort[];
  writer: Writer;
  reporter: Reporter;
  now: () => number;
  timers: HoldTimers;
  policy: AddressPolicy;
  drainMs: number;
  weights: WeightPolicy;
  cookieKey: string | null;
  /** How long a socket lane at rest may go without a full read (drift repair bound). */
  driftCheckMs: number;
  /** --dynamic-servers. */
  dynamicServers?: boolean;
  /** --max-endpoints: the most servers (slots and added) a backend is given; DEFAULT_MAX_ENDPOINTS unless set. */
  maxEndpoints?: number;
  /** What --state-file held at start, null without one. */
  saved?: SavedState | null;
  /** Keeps the state (--state-file); null: nothing is kept (no file, or --dry-run). */
  persist?: ((state: SavedState) => void) | null;
  /** --master-socket: calls `reloaded` when HAProxy's master reloads, until the returned function is called. */
  watchMaster?: ((reloaded: () => void) => () => void) | undefined;
  /** After each socket lane's run, with its report (--server-state-file writes HAProxy's dump); never throws. */
  afterSocketRun?: ((report: SocketReport) => Promise<void>) | undefined;
}>;

/** How one pass (every lane once) went; `--once` turns it into the exit code. */
export type PassReport = Readonly<{
  ok: boolean;
  findings: readonly Finding[];
}>;

/** For /readyz and /healthz: what each backend's DNS said, what each socket's HAProxy has had applied, when each lane last ran. */
export type AgentStatus = Readonly<{
  /** When the last lane run ended (any lane), null before the first. */
  lastRunAt: number | null;
  backends: readonly DnsView[];
  sockets: readonly SocketView[];
  /** Lane ("dns <backend>", "socket <path>") -> when its last run ended, null before its first. */
  lanes: ReadonlyMap<string, number | null>;
}>;

/**
 * The agent: one DNS lane per backend, one socket lane per HAProxy socket.
 *
 * A DNS lane asks its record and keeps the endpoints in force (hold timers applied). A
 * socket lane observes HAProxy, decides against the endpoints in force (checks, slot view,
 * plan: src/agent/decide.ts), acts through the writer (send, or print for --dry-run),
 * verifies, and reports. Every report goes to the Reporter, which alone logs and counts.
 * Each lane is level-based: it plans from what it reads, never from "what changed last time".
 */
export class Agent {
  readonly #d: AgentDeps;
  readonly #dns: DnsLane[];
  readonly #sockets: SocketLane[];
  #lastRunAt: number | null = null;
  readonly #laneRuns = new Map<string, number | null>();
  /** The socket lanes' wake-ups while run() runs: a new HAProxy process on a socket runs its lane at once. */
  #socketWakeups: readonly Wakeup[] = [];
  /** What the state last kept was made of (each lane's good revision, the drains), and when it was written. */
  #kept: { answers: readonly number[]; drains: string; at: number } | null = null;

  constructor(deps: AgentDeps) {
    this.#d = deps;
    const saved = deps.saved?.backends ?? {};
    this.#dns = deps.backends.map(
      (spec) =>
        new DnsLane({
          spec,
          resolve: deps.resolve,
          serialView: deps.serialView,
          answeredBy: deps.answeredBy,
          timers: deps.timers,
          policy: deps.policy,
          now: deps.now,
          saved: saved[spec.id],
        }),
    );
    const o = {
      writer: deps.writer,
      now: deps.now,
      drainMs: deps.drainMs,
      weights: deps.weights,
      cookieKey: deps.cookieKey,
      driftCheckMs: deps.driftCheckMs,
      dynamicServers: deps.dynamicServers === true,
      maxEndpoints: deps.maxEndpoints ?? DEFAULT_MAX_ENDPOINTS,
    };
    this.#sockets = deps.ports.map(
      (port) => new SocketLane({ ...o, port, backends: this.#dns, savedDrains: deps.saved?.drains[port.label] }),
    );
    for (const l of this.#dns) this.#laneRuns.set(`dns ${l.spec.id}`, null);
    for (const l of this.#sockets) this.#laneRuns.set(`socket ${l.label}`, null);
  }

  /** Every lane once: the DNS lanes, then the socket lanes (each set in parallel). For --once and tests. */
  async pass(): Promise<PassReport> {
    const dns = await Promise.all(this.#dns.map((l) => this.#runDns(l)));
    const sockets = await Promise.all(this.#sockets.map((l) => this.#runSocket(l)));
    const findings = [...dns, ...sockets].flatMap((r) => r?.findings ?? []);
    return { ok: findings.every((f) => severityOf(f) === 'warning'), findings };
  }

  /**
   * The daemon: every lane on its own schedule until `signal` aborts (the agent's stop).
   * A DNS lane asks every interval, and at once when its zone's serial moves, even while an
   * older question is in flight (the newest answer wins); one whose endpoints changed wakes
   * the socket lanes. Stopping ends every DNS question in flight at once (a DNS run says
   * nothing then); a socket lane's run in flight finishes. A hard error in any lane stops
   * them all and rejects with it.
   */
  async run(signal: AbortSignal, wait: WaitOptions): Promise<void> {
    const stop = new AbortController();
    const onAbort = (): void => {
      stop.abort();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const wakeups = this.#sockets.map(() => new Wakeup());
    this.#socketWakeups = wakeups;
    // A socket file replaced is a new process: its lane fills it now, not at its next interval.
    const unwatch = this.#sockets.map((lane, i) => lane.watch(() => wakeups[i]?.wake()));
    // A reload under -W leaves the socket file as it is; the master closing its CLI tells.
    const unwatchMaster = this.#d.watchMaster?.(() => {
      this.#sockets.forEach((lane, i) => {
        lane.expectNewProcess();
        wakeups[i]?.wake();
      });
    });
    const dnsWakeups = this.#dns.map(() => new Wakeup());
    const serial = this.#d.serial;
    const watchMs = wait.watchMs ?? 0;
    const lanes = [
      ...this.#dns.map(async (lane, i) =>
        overlap(
          async () => {
            const r = await this.#runDns(lane, stop.signal);
            // A change wakes the socket lanes; at rest, those due within a tenth of the interval run now, in this wake-up.
            for (const w of wakeups) {
              if (r?.changed === true) w.wake();
              else w.wakeIfDueWithin(wait.intervalMs * JOIN_WITHIN);
            }
            return r;
          },
          (r) => nextWaitMs(wait, r?.ttlSeconds ?? null),
          dnsWakeups[i] ?? new Wakeup(),
          stop.signal,
          DNS_RUNS_IN_FLIGHT,
        ),
      ),
      // A zone whose serial moved is asked again at once (--watch).
      ...(serial === undefined || watchMs <= 0
        ? []
        : this.#dns.map(async (lane, i) => {
            const name = (): string | null => lane.answeredName;
            await watch(
              async () => {
                const n = name();
                const read = n === null ? null : await serial(n, stop.signal);
                // A run due before the next read runs now, in this wake-up: at rest the watch's reads are the lanes' clock.
                dnsWakeups[i]?.wakeIfDueWithin(watchMs);
                return read;
              },
              () => dnsWakeups[i]?.wake(),
              watchMs,
              stop.signal,
            );
          })),
      ...this.#sockets.map(async (lane, i) =>
        repeat(
          () => this.#runSocket(lane),
          () => lane.soonerMs() ?? nextWaitMs(wait, null),
          wakeups[i] ?? new Wakeup(),
          stop.signal,
        ),
      ),
    ].map((p) =>
      p.catch((err: unknown) => {
        stop.abort();
        throw err;
      }),
    );
    const settled = await Promise.allSettled(lanes);
    for (const stop of unwatch) stop();
    unwatchMaster?.();
    this.#socketWakeups = [];
    signal.removeEventListener('abort', onAbort);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  status(now: number): AgentStatus {
    return {
      lastRunAt: this.#lastRunAt,
      backends: this.#dns.map((l) => l.view(now)),
      sockets: this.#sockets.map((l) => l.view()),
      lanes: this.#laneRuns,
    };
  }

  /** The status page's model (/status), from what the lanes keep and the last changes: built only when asked. */
  statusModel(now: number): StatusModel {
    return statusModel({
      now,
      drainMs: this.#d.drainMs,
      maxEndpoints: this.#d.maxEndpoints ?? DEFAULT_MAX_ENDPOINTS,
      dynamicServers: this.#d.dynamicServers ?? false,
      backends: this.#dns.map((l) => l.detail(now)),
      sockets: this.#sockets.map((l) => l.detail()),
      changes: this.#d.reporter.recentChanges(),
    });
  }

  /**
   * status(), each socket checked against the process on it now (/readyz): a reload or a
   * restart since the lane's last run is not ready, and its lane runs at once.
   */
  async checkedStatus(): Promise<AgentStatus> {
    const sockets = await Promise.all(
      this.#sockets.map(async (lane, i) => {
        const { view, newProcess } = await lane.confirm();
        if (newProcess) this.#socketWakeups[i]?.wake();
        return view;
      }),
    );
    return { ...this.status(this.#d.now()), sockets };
  }

  async #runDns(lane: DnsLane, signal?: AbortSignal): Promise<DnsReport | null> {
    const r = await lane.run(signal);
    if (r === null) return null;
    this.#ran(`dns ${lane.spec.id}`);
    this.#d.reporter.dns(r);
    return r;
  }

  async #runSocket(lane: SocketLane): Promise<SocketReport> {
    const r = await lane.run();
    this.#ran(`socket ${lane.label}`);
    this.#d.reporter.socket(r);
    await this.#d.afterSocketRun?.(r);
    return r;
  }

  #ran(lane: string): void {
    this.#lastRunAt = this.#d.now();
    this.#laneRuns.set(lane, this.#lastRunAt);
    this.#keep();
  }

  /**
   * Writes the state when an answer or a drain changed, and otherwise at most every tenth
   * of --hold to refresh the answers' time: after a restart an answer is held from no
   * earlier than that.
   */
  #keep(): void {
    const persist = this.#d.persist;
    if (persist === undefined || persist === null) return;
    // Compared cheaply on every lane run: the answers by their lanes' good revisions, the
    // drains, small, by their text.
    const answers = this.#dns.map((l) => l.goodRevision);
    const drains = JSON.stringify(this.#sockets.map((l) => l.drains()));
    const now = this.#d.now();
    const kept = this.#kept;
    const same = kept !== null && kept.drains === drains && kept.answers.every((a, i) => a === answers[i]);
    if (same && now - kept.at < this.#d.timers.holdMs / 10) return;
    persist(this.#state());
    this.#kept = { answers, drains, at: now };
  }

  #state(): SavedState {
    const backends: Record<string, SavedState['backends'][string]> = {};
    for (const l of this.#dns) {
      if (l.good !== null) backends[l.spec.id] = { record: describeRecord(l.spec.record), at: l.good.at, endpoints: l.good.endpoints };
    }
    const drains: Record<string, Record<string, Record<string, number>>> = {};
    for (const l of this.#sockets) {
      const d = l.drains();
      if (Object.keys(d).length > 0) drains[l.label] = d;
    }
    return { version: STATE_VERSION, backends, drains };
  }
}
