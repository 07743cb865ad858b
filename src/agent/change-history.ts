import { endpointKey, type SlotTarget } from '../core/types.ts';
import type { SocketReport } from './socket-report.ts';

/** How many changes the status page shows: the only history the agent keeps for it. */
export const HISTORY_SIZE = 50;

/** One change the agent made to a server, as the status page lists it. */
export type ChangeRecord = Readonly<{
  /** When the socket lane's run that made it ended (ms since the epoch). */
  at: number;
  socket: string;
  backend: string;
  server: string;
  /** `set`: an address, weight or state changed; `added`, `deleted`: a server added at run time, or deleted. */
  action: 'set' | 'added' | 'deleted' | 'reload';
  /** Why, in words. */
  reason: string;
  /** "10.0.0.1:80 ready weight 256" before and after (null where it does not apply). */
  from: string | null;
  to: string | null;
  /** The SRV target (pod name) the server serves after the change, null when none. */
  target: string | null;
  /** Sessions the server held when it left for maintenance, null when not read. */
  liveSessions: number | null;
}>;

/**
 * The last HISTORY_SIZE changes of every socket lane, newest last: a ring, so that a
 * long-running agent keeps no more than that, and nothing else is kept for the page.
 */
export class ChangeHistory {
  readonly #ring: ChangeRecord[] = [];
  #next = 0;

  /** Keeps what a socket lane's run changed (and its reload), as of `at`. */
  record(r: SocketReport, at: number): void {
    const socket = r.socket;
    if (r.reload !== null) {
      const reason = `HAProxy reloaded or restarted (${r.reload.reason}): every managed server pushed again`;
      this.#push({ at, socket, backend: '', server: '', action: 'reload', reason, from: null, to: null, target: null, liveSessions: null });
    }
    for (const { backend, change: c, liveSessions } of r.changes) {
      this.#push({
        at,
        socket,
        backend,
        server: c.server,
        action: 'set',
        reason: c.reason,
        from: describeTarget(c.from),
        to: describeTarget(c.to),
        target: c.endpoint?.target ?? null,
        liveSessions,
      });
    }
    for (const d of r.dynamic) {
      const added = d.added !== null;
      this.#push({
        at,
        socket,
        backend: d.backend,
        server: d.server,
        action: added ? 'added' : 'deleted',
        reason: added ? 'more endpoints than slots: a server added' : 'added at run time, its pod left: deleted',
        from: null,
        to: d.added,
        target: null,
        liveSessions: null,
      });
    }
  }

  /** The changes kept, oldest first. */
  recent(): ChangeRecord[] {
    return [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
  }

  #push(c: ChangeRecord): void {
    if (this.#ring.length < HISTORY_SIZE) {
      this.#ring.push(c);
      return;
    }
    this.#ring[this.#next] = c;
    this.#next = (this.#next + 1) % HISTORY_SIZE;
  }
}

/** "10.0.0.1:80 ready weight 256". */
export const describeTarget = (t: SlotTarget): string =>
  `${endpointKey(t)} ${t.admin}${t.weight === null ? '' : ` weight ${String(t.weight)}`}`;
