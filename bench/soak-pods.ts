/**
 * The soak's pods (test/support/pods.ts: HTTP servers that answer with their own
 * address:port) on a thread of their own, so that serving them does not wait on the
 * clients' loops, and theirs not on the pods.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Pod } from '../test/support/bind.ts';
import { TestPods } from '../test/support/pods.ts';

type Request = Readonly<{ id: number; op: 'start' | 'stop' | 'stop-all'; pods: readonly Pod[] }>;
type Reply = Readonly<{ id: number; error: string | null }>;

/** The pods' thread, seen from the main thread: start and stop pods, close the thread. */
export class PodsThread {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  #next = 0;
  #failed: Error | null = null;

  constructor() {
    this.#worker = new Worker(new URL(import.meta.url), { workerData: { pods: true } });
    this.#worker.on('message', (r: Reply) => {
      const w = this.#waiting.get(r.id);
      this.#waiting.delete(r.id);
      if (r.error === null) w?.resolve();
      else w?.reject(new Error(r.error));
    });
    this.#worker.on('error', (err: Error) => {
      this.#failed = err;
      for (const w of this.#waiting.values()) w.reject(err);
      this.#waiting.clear();
    });
  }

  start(pods: readonly Pod[]): Promise<void> {
    return this.#ask('start', pods);
  }

  stop(pods: readonly Pod[]): Promise<void> {
    return this.#ask('stop', pods);
  }

  /** Stops every pod and ends the thread. */
  async close(): Promise<void> {
    if (this.#failed === null) await this.#ask('stop-all', []).catch(() => undefined);
    await this.#worker.terminate();
  }

  #ask(op: Request['op'], pods: readonly Pod[]): Promise<void> {
    if (this.#failed !== null) return Promise.reject(this.#failed);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#worker.postMessage({ id, op, pods } satisfies Request);
    });
  }
}

/** On the pods' thread: one TestPods, asked in order. */
function serve(port: NonNullable<typeof parentPort>): void {
  const pods = new TestPods();
  let queue = Promise.resolve();
  port.on('message', (r: Request) => {
    queue = queue.then(async () => {
      try {
        if (r.op === 'start') await pods.start(r.pods);
        else await pods.stop(r.op === 'stop-all' ? undefined : r.pods);
        port.postMessage({ id: r.id, error: null } satisfies Reply);
      } catch (err) {
        port.postMessage({ id: r.id, error: err instanceof Error ? err.message : String(err) } satisfies Reply);
      }
    });
  });
}

if (!isMainThread && parentPort !== null && (workerData as { pods?: boolean } | undefined)?.pods === true) serve(parentPort);
