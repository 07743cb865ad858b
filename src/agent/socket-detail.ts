/**
 * What the status page shows of a socket lane, kept as the lane runs: the last full read
 * and its plan, with the state HAProxy showed once the steps were taken, and the live
 * sessions of the servers draining as last read. Kept by reference: nothing is built until
 * the page asks, and nothing is read for it.
 */
import type { ShowInfo } from '../haproxy/parse.ts';
import type { BackendView, Snapshot } from '../haproxy/runtime.ts';
import type { Work } from './decide.ts';
import type { SocketView } from './socket-readiness.ts';

/**
 * What the status page shows of a socket: the HAProxy process last read, and what the last
 * full run read of the managed servers and planned for them (the state after its steps,
 * when a second read verified them).
 */
export type SocketDetail = Readonly<{
  socket: string;
  view: SocketView;
  info: ShowInfo | null;
  /** The configuration and the socket's level were checked for this process (level admin). */
  checked: boolean;
  /** --dynamic-servers was asked for and this HAProxy can add servers. */
  dynamic: boolean;
  /** The last full read and plan, null before any. */
  read: Readonly<{ at: number; snap: Snapshot; work: readonly Work[]; capped: ReadonlyMap<string, number> }> | null;
  /** `backend/server` (HAProxy's names) -> a draining server's live sessions as last read, and when; absent: not read. */
  sessions: ReadonlyMap<string, LiveSessions>;
}>;

/** A server's live sessions (`show stat`'s scur) and when they were read. */
export type LiveSessions = Readonly<{ n: number; at: number }>;

/** The lane's last full read and plan, as the status page shows them. */
export class SocketRecord {
  #read: SocketDetail['read'] = null;
  #dynamic = false;
  /** Only the servers the last plan drains: as many at most as the servers the agent manages. */
  readonly #sessions = new Map<string, LiveSessions>();

  /** A run planned `work` from `snap` at `at`; `dynamic`: servers may be added on this HAProxy. */
  planned(at: number, snap: Snapshot, work: readonly Work[], capped: ReadonlyMap<string, number>, dynamic: boolean): void {
    this.#dynamic = dynamic;
    this.#read = { at, snap, work, capped };
    const draining = drainingIn(work);
    for (const key of this.#sessions.keys()) if (!draining.has(key)) this.#sessions.delete(key);
  }

  /** Live sessions read at `at` (`backend/server` -> n, every server of a backend): kept for the servers the last plan drains. */
  sessionsRead(at: number, sessions: ReadonlyMap<string, number>): void {
    const work = this.#read?.work ?? [];
    const draining = drainingIn(work);
    for (const [key, n] of sessions) if (draining.has(key)) this.#sessions.set(key, { n, at });
  }

  /** The second read after the steps: what HAProxy holds once they were taken is shown, not the state before them. */
  verified(at: number, views: ReadonlyMap<string, BackendView | null>): void {
    const last = this.#read;
    if (last === null) return;
    const backends = new Map(last.snap.backends);
    for (const [name, view] of views) backends.set(name, view);
    this.#read = { ...last, at, snap: { ...last.snap, backends } };
  }

  detail(socket: string, view: SocketView, info: ShowInfo | null, checked: boolean): SocketDetail {
    return { socket, view, info, checked, dynamic: this.#dynamic, read: this.#read, sessions: this.#sessions };
  }
}

/** `backend/server` of every server `work` drains (its memory after the plan). */
function drainingIn(work: readonly Work[]): Set<string> {
  const out = new Set<string>();
  for (const w of work) for (const server of w.plan.memory.drainingSince.keys()) out.add(`${w.spec.backend}/${server}`);
  return out;
}
