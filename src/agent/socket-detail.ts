/**
 * What the status page shows of a socket lane, kept as the lane runs: the last full read
 * and its plan, with the state HAProxy showed once the steps were taken. Kept by
 * reference: nothing is built until the page asks.
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
}>;

/** The lane's last full read and plan, as the status page shows them. */
export class SocketRecord {
  #read: SocketDetail['read'] = null;
  #dynamic = false;

  /** A run planned `work` from `snap` at `at`; `dynamic`: servers may be added on this HAProxy. */
  planned(at: number, snap: Snapshot, work: readonly Work[], capped: ReadonlyMap<string, number>, dynamic: boolean): void {
    this.#dynamic = dynamic;
    this.#read = { at, snap, work, capped };
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
    return { socket, view, info, checked, dynamic: this.#dynamic, read: this.#read };
  }
}
