import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Tells when the file at a socket's path is created or replaced. A HAProxy process that
 * binds its stats socket itself (a start, a restart, a reload with `-sf` and no `-x`) binds
 * it under a temporary name and renames it into place, so a new process is known the
 * moment its socket appears. A reload that hands the listening sockets over (`-W`, which
 * passes them to the new worker, or `-x`) leaves the file as it is: the lane's own reads,
 * and /readyz, find that one. One inotify watch on the folder: nothing runs at rest.
 */
export class SocketPathWatch {
  readonly #dir: string;
  readonly #name: string;
  readonly #onReplaced: () => void;
  #watcher: FSWatcher | null = null;
  #closed = false;

  constructor(path: string, onReplaced: () => void) {
    this.#dir = dirname(path);
    this.#name = basename(path);
    this.#onReplaced = onReplaced;
  }

  /**
   * Watches, unless it already does: the folder may not exist yet (HAProxy not started, a
   * volume not mounted), and a folder removed ends the watch. Returns whether it watches.
   */
  ensure(): boolean {
    if (this.#watcher !== null) return true;
    if (this.#closed) return false;
    try {
      const w = watch(this.#dir, { persistent: false }, (_event, name) => {
        // A platform that does not say which entry changed: any change may be the socket.
        if (name === null || name === this.#name) this.#onReplaced();
      });
      w.on('error', () => {
        w.close();
        if (this.#watcher === w) this.#watcher = null;
      });
      this.#watcher = w;
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = null;
  }
}
