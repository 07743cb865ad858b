/**
 * The other client of the busy part, on a thread of its own so that neither its rate nor
 * the probe's timings wait on the bench's polling of HAProxy: BIND's answer time at rest
 * first, then the load and the probe together until the main thread says stop (or the
 * load reaches its own bound).
 */
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { AnswerProbe, DnsLoad, timeQuestion, type LoadOptions } from './dns-load.ts';

export type BusyClientOptions = Readonly<{
  load: LoadOptions;
  probe: Readonly<{ name: string; everyMs: number; timeoutMs: number; restMs: number }>;
}>;

export type BusyClientReport = Readonly<{
  load: DnsLoad['stats'];
  atRest: readonly (number | null)[];
  underLoad: readonly (number | null)[];
  /** Whether the load was still running when told to stop. */
  throughout: boolean;
}>;

type FromWorker = { type: 'loaded' } | ({ type: 'done' } & BusyClientReport);

/** The worker, seen from the main thread: started (the rest probe taken, the load running), then stopped for its report. */
export class BusyClient {
  readonly #worker: Worker;
  readonly #messages: FromWorker[] = [];
  #wake: (() => void) | null = null;
  #failed: Error | null = null;

  constructor(o: BusyClientOptions) {
    this.#worker = new Worker(new URL(import.meta.url), { workerData: o });
    this.#worker.on('message', (m: FromWorker) => {
      this.#messages.push(m);
      this.#wake?.();
    });
    this.#worker.on('error', (err: Error) => {
      this.#failed = err;
      this.#wake?.();
    });
  }

  async #next<T extends FromWorker['type']>(type: T): Promise<Extract<FromWorker, { type: T }>> {
    for (;;) {
      if (this.#failed !== null) throw this.#failed;
      const i = this.#messages.findIndex((m) => m.type === type);
      if (i >= 0) return this.#messages.splice(i, 1)[0] as Extract<FromWorker, { type: T }>;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  /** Resolves once BIND's answer time at rest is taken and the load is running. */
  async started(): Promise<void> {
    await this.#next('loaded');
  }

  async stop(): Promise<BusyClientReport> {
    this.#worker.postMessage('stop');
    try {
      const done = await this.#next('done');
      return { load: done.load, atRest: done.atRest, underLoad: done.underLoad, throughout: done.throughout };
    } finally {
      await this.#worker.terminate();
    }
  }
}

async function run(port: NonNullable<typeof parentPort>, o: BusyClientOptions): Promise<void> {
  const stop = new Promise<void>((resolve) => {
    port.once('message', () => {
      resolve();
    });
  });
  const ask = (): Promise<number | null> => timeQuestion(o.load.host, o.load.port, o.probe.name, 'SOA', o.probe.timeoutMs);
  const rest = new AnswerProbe(ask, o.probe.everyMs);
  rest.start();
  await new Promise((r) => setTimeout(r, o.probe.restMs));
  await rest.stop();
  const load = new DnsLoad(o.load);
  const probe = new AnswerProbe(ask, o.probe.everyMs);
  await load.start();
  probe.start();
  port.postMessage({ type: 'loaded' } satisfies FromWorker);
  await stop;
  const throughout = load.running;
  await probe.stop();
  await load.stop();
  port.postMessage({ type: 'done', load: load.stats, atRest: rest.times, underLoad: probe.times, throughout } satisfies FromWorker);
}

if (parentPort !== null && (workerData as BusyClientOptions | undefined)?.load !== undefined) {
  void run(parentPort, workerData as BusyClientOptions);
}
