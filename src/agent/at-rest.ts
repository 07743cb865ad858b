import type { ShowInfo } from '../haproxy/parse.ts';
import type { HaproxyPort, Snapshot } from '../haproxy/runtime.ts';
import { reloadReason } from './checks.ts';
import type { Progress } from './socket-report.ts';

/** What a rest check found: the same process as the last quiet run left (what to report), or what it read for a full run. */
export type RestCheck =
  Readonly<{ unchanged: Progress; info: ShowInfo; read: null }> | Readonly<{ unchanged: null; read: Snapshot | null }>;

/**
 * A socket lane's shortcut at rest (a pass at rest costs CPU every interval: bench/cost.ts).
 * When the last full run found nothing to do, no drain is running and DNS has not changed
 * since, a full run would find nothing either while HAProxy holds what that run read. The
 * lane then reads `show info` alone and checks it is the same process; every drift-check
 * bound it reads the servers' state too, and runs in full only when it differs: what
 * someone else changed on the socket is repaired within that bound.
 */
export class AtRest {
  readonly #driftCheckMs: number;
  /** The last full run that found nothing to do: what it reported, the DNS revisions it matched, what it read, and when. */
  #last: { at: number; revisions: string; progress: Progress; print: string } | null = null;

  constructor(driftCheckMs: number) {
    this.#driftCheckMs = driftCheckMs;
  }

  /** A full run ended: it leaves the lane at rest when it was `quiet` (nothing sent, nothing wrong, no drain running). */
  ended(quiet: boolean, progress: Progress, revisions: string, read: Snapshot, now: number): void {
    // Only the print of what was read is kept: 1000 parsed rows are not held between runs.
    this.#last = quiet ? { at: now, revisions, progress, print: read.print } : null;
  }

  /** Something the last full run did not see happened (a new socket file, a full run starting): the next run is a full one. */
  forget(): void {
    this.#last = null;
  }

  /**
   * Whether the lane is still at rest: DNS at the `revisions` the last quiet run matched, and
   * the process on `port` the one it read (`known`). Reads `show info`, or the backends
   * `names` when the drift-check bound has passed.
   */
  async check(
    port: HaproxyPort,
    names: readonly string[],
    revisions: string,
    known: ShowInfo | null,
    now: () => number,
  ): Promise<RestCheck> {
    const last = this.#last;
    if (last === null || last.revisions !== revisions) return { unchanged: null, read: null };
    // The servers' state is printed before it is parsed: the print of the last full read needs no row parsed.
    const reading = now() - last.at >= this.#driftCheckMs ? await port.read(names) : null;
    const info = reading?.info ?? (await port.info());
    if (info.stopping || known === null || reloadReason(known, info) !== null || (reading !== null && reading.print !== last.print))
      return { unchanged: null, read: reading === null ? null : await reading.snapshot() };
    if (reading !== null) last.at = now();
    return { unchanged: { ...last.progress, results: [], changes: [], dynamic: [], latency: new Map() }, info, read: null };
  }
}
