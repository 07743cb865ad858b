import { findingText, type Finding } from '../core/findings.ts';
import { HaproxyProtocolError } from '../errors.ts';
import type { ShowInfo } from '../haproxy/parse.ts';
import type { HaproxyPort } from '../haproxy/runtime.ts';
import { reloadReason } from './checks.ts';

/** A socket as /readyz sees it. */
export type SocketView = Readonly<{
  socket: string;
  /** Whether the last run reached HAProxy (null before the first run), and if not, why. */
  reachable: boolean | null;
  detail: string | null;
  /** The HAProxy process the socket last showed, null before the first read. */
  pid: number | null;
  /** Backends whose endpoints in force (or a known empty answer) this process has had applied. */
  settled: ReadonlySet<string>;
}>;

/** What /readyz sees of a socket, checked against the process there now; `newProcess`: one its lane has not filled yet. */
export type Confirmed = Readonly<{ view: SocketView; newProcess: boolean }>;

/**
 * What one socket's HAProxy process has had applied, for /readyz: which process (its first
 * read: pid, start time, uptime), which backends, and whether the lane's last run reached
 * it. A new process, a reload or a restart even under the same pid, starts with nothing.
 */
export class SocketReadiness {
  readonly #label: string;
  readonly #port: HaproxyPort;
  #settled: { info: ShowInfo; backends: Set<string> } | null = null;
  #reach: { ok: boolean; detail: string | null } | null = null;
  /** A check of the process on the socket in flight: probes that come meanwhile share it. */
  #confirming: Promise<Confirmed> | null = null;

  constructor(label: string, port: HaproxyPort) {
    this.#label = label;
    this.#port = port;
  }

  view(): SocketView {
    return {
      socket: this.#label,
      reachable: this.#reach?.ok ?? null,
      detail: this.#reach?.detail ?? null,
      pid: this.#settled?.info.pid ?? null,
      settled: this.#settled?.backends ?? new Set(),
    };
  }

  /** A full run read this process: the backends it has had applied, empty for a process not seen before. */
  read(info: ShowInfo): Set<string> {
    if (this.#settled === null || reloadReason(this.#settled.info, info) !== null) this.#settled = { info, backends: new Set() };
    return this.#settled.backends;
  }

  /** How the lane's last run ended: HAProxy reached, or the finding that says why not. */
  reached(away: Finding | undefined): void {
    this.#reach = { ok: away === undefined, detail: away === undefined ? null : findingText(away) };
  }

  /**
   * The view, checked against the process on the socket now: a process other than the one
   * the backends were applied to has had nothing applied, and a socket that does not answer
   * like HAProxy is not reachable. One `show info` at a time, however often /readyz is asked.
   */
  confirm(): Promise<Confirmed> {
    this.#confirming ??= this.#confirm().finally(() => {
      this.#confirming = null;
    });
    return this.#confirming;
  }

  async #confirm(): Promise<Confirmed> {
    const settled = this.#settled;
    const view = this.view();
    // Nothing to confirm: the view says not ready already.
    if (view.reachable !== true || settled === null || settled.backends.size === 0) return { view, newProcess: false };
    const away = (f: Finding): Confirmed => ({ view: { ...view, reachable: false, detail: findingText(f) }, newProcess: false });
    let info: ShowInfo;
    try {
      info = await this.#port.info({ once: true });
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      return away({
        kind: err instanceof HaproxyProtocolError ? 'haproxy-unreadable' : 'haproxy-unreachable',
        socket: this.#label,
        detail,
      });
    }
    if (info.stopping) return away({ kind: 'haproxy-stopping', socket: this.#label, pid: info.pid });
    // The lane read the socket while this asked: its view is the newer one.
    if (this.#settled !== settled) return { view: this.view(), newProcess: false };
    if (reloadReason(settled.info, info) === null) return { view, newProcess: false };
    this.#settled = { info, backends: new Set() };
    return { view: this.view(), newProcess: true };
  }
}

/** After the master reloaded: how often, and for how long, the socket is asked for the new worker. */
const RELOAD_POLL_MS = 20;
const RELOAD_WAIT_MS = 5_000;

/**
 * After HAProxy's master reloaded (--master-socket): the new worker is looked for at once,
 * then every RELOAD_POLL_MS, until a run finds it (and fills it) or RELOAD_WAIT_MS pass.
 */
export class NewWorkerWait {
  #until: number | null = null;

  begin(now: number): void {
    this.#until = now + RELOAD_WAIT_MS;
  }

  /** How soon the lane runs again when that is sooner than its interval, else null. */
  soonerMs(): number | null {
    return this.#until === null ? null : RELOAD_POLL_MS;
  }

  /** A run ended: `found` when it met a new process. */
  ended(found: boolean, now: number): void {
    if (this.#until !== null && (found || now >= this.#until)) this.#until = null;
  }
}
