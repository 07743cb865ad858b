import { lstatSync, type Stats } from 'node:fs';
import type { SocketReport } from '../agent/socket-report.ts';
import { MAX_SERVER_STATE_BYTES, mergeDumps, type ServerStateDump } from '../haproxy/server-state.ts';
import { kindOf, writeStateFile } from './file.ts';

/*
 * --server-state-file: HAProxy's own `show servers state`, kept at the path its
 * `server-state-file` names, so that a reload (a bare SIGUSR2 to a -W master included,
 * with no script to save the state first) starts with the slots the agent filled.
 */

/**
 * Replaces the file atomically (writeStateFile: an exclusive temporary file beside it, then
 * a rename), 0640 so that HAProxy reads it through the folder's group. Only a regular file
 * or nothing is replaced: a link, FIFO, device or folder at the path is refused (thrown),
 * and left as it is.
 */
export function writeServerStateFile(path: string, text: string): void {
  let stats: Stats | null = null;
  try {
    stats = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (stats !== null && !stats.isFile()) {
    const what = stats.isSymbolicLink() ? 'a symbolic link' : kindOf(stats);
    throw new Error(`${what} is at the path; refused (expected a regular file or none: a link is neither followed nor replaced)`);
  }
  writeStateFile(path, text, 0o640);
}

/** Whether anything is at the path (not following a link): one lstat. */
export function serverStateFilePresent(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** What became of one attempt: the file written (from which socket's run, how large), or why not. */
export type ServerStateOutcome = Readonly<{ written: Readonly<{ socket: string; bytes: number }> }> | Readonly<{ problem: string }>;

export type ServerStateDeps = Readonly<{
  /** The --socket labels, in order: with several, the file holds each backend from the first that shows it. */
  sockets: readonly string[];
  /** `show servers state` on one socket (src/haproxy/server-state.ts). */
  dump: (socket: string) => Promise<ServerStateDump>;
  /** Replaces the file atomically; throws when it cannot. */
  write: (text: string) => void;
  /** Whether the file is there (a cheap lstat, asked at rest). */
  present: () => boolean;
  now: () => number;
  /** How long after a failed attempt a lane at rest tries again; a change tries at once. */
  retryMs: number;
  /** Each attempt's outcome, for the Reporter (which says a problem once per change). */
  said: (outcome: ServerStateOutcome) => void;
}>;

/**
 * Writes the file after a socket lane's run that sent commands or met a new HAProxy
 * process, after each socket's first run, and when the file is missing; a failed attempt
 * is tried again at the next change, or at rest after `retryMs`. At rest nothing more is
 * read from HAProxy: the dump is asked only when one of those holds. The file is HAProxy's
 * dump as of that moment: a change the agent did not make (a weight set by hand, a health
 * check's verdict, a server of another backend) is in it from the agent's next write.
 */
export class ServerStateFile {
  readonly #d: ServerStateDeps;
  /** Sockets whose dump was written once (the first run writes, whatever the file holds). */
  readonly #written = new Set<string>();
  /** Socket -> when the attempt after its run failed. */
  readonly #failedAt = new Map<string, number>();
  /** With several sockets, each one's last dump, the file being made of them all. */
  readonly #dumps = new Map<string, Readonly<{ text: string; header: string }>>();

  constructor(deps: ServerStateDeps) {
    this.#d = deps;
  }

  /** After a socket lane's run (its report): writes the file when it is due. Never throws. */
  async afterRun(r: SocketReport): Promise<void> {
    if (!this.#due(r)) return;
    let outcome: ServerStateOutcome;
    try {
      outcome = await this.#attempt(r.socket);
    } catch (err) {
      outcome = { problem: err instanceof Error ? err.message : String(err) };
    }
    if ('problem' in outcome) this.#failedAt.set(r.socket, this.#d.now());
    else {
      this.#failedAt.delete(r.socket);
      this.#written.add(r.socket);
    }
    this.#d.said(outcome);
  }

  #due(r: SocketReport): boolean {
    if (r.results.length > 0 || r.reload !== null) return true;
    if (r.findings.some((f) => AWAY.has(f.kind))) return false;
    const failedAt = this.#failedAt.get(r.socket);
    if (failedAt !== undefined) return this.#d.now() - failedAt >= this.#d.retryMs;
    return !this.#written.has(r.socket) || !this.#d.present();
  }

  async #attempt(socket: string): Promise<ServerStateOutcome> {
    const dump = await this.#d.dump(socket);
    if ('problem' in dump) return dump;
    let text = dump.text;
    if (this.#d.sockets.length > 1) {
      // Processes of one HAProxy print one layout; another one is a newer release, which a
      // reload brings to every process: the older dumps are left out until theirs come.
      for (const [s, d] of this.#dumps) if (d.header !== dump.header) this.#dumps.delete(s);
      this.#dumps.set(socket, dump);
      text = mergeDumps(this.#d.sockets.flatMap((s) => this.#dumps.get(s)?.text ?? []));
    }
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_SERVER_STATE_BYTES) {
      return {
        problem: `the dumps of ${String(this.#d.sockets.length)} sockets make ${String(bytes)} bytes, more than the ${String(MAX_SERVER_STATE_BYTES)} this agent writes`,
      };
    }
    this.#d.write(text);
    return { written: { socket, bytes } };
  }
}

/** A run that did not reach a HAProxy serving on the socket: no dump is asked after it, unless it sent commands. */
const AWAY: ReadonlySet<string> = new Set(['haproxy-unreachable', 'haproxy-stopping', 'haproxy-unreadable']);
