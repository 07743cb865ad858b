/**
 * The soak's clients: a few async loops in one process, each request on a new connection
 * through HAProxy. Sticky clients keep the SRVID cookie HAProxy sets (a cookie jar of one
 * cookie); cookie-less clients send none. What each request saw is counted against the
 * phase it was sent in.
 */
import { httpGet } from '../test/support/http-client.ts';

/** Latencies in buckets 5% apart from 0.1 ms: a quantile to within 5%, in a fixed size whatever the run's length. */
export class Latencies {
  static readonly #RATIO = 1.05;
  static readonly #FLOOR_MS = 0.1;
  readonly #counts = new Float64Array(400);
  #total = 0;

  add(ms: number): void {
    const i = ms <= Latencies.#FLOOR_MS ? 0 : Math.ceil(Math.log(ms / Latencies.#FLOOR_MS) / Math.log(Latencies.#RATIO));
    const b = Math.min(i, this.#counts.length - 1);
    this.#counts[b] = (this.#counts[b] ?? 0) + 1;
    this.#total++;
  }

  /** The upper bound of the bucket holding the q-th quantile; NaN with no sample. */
  quantile(q: number): number {
    if (this.#total === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.#total));
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) return Latencies.#FLOOR_MS * Latencies.#RATIO ** i;
    }
    return NaN;
  }
}

/** What happened to the requests sent during one kind of phase, over all its runs. */
export class PhaseStats {
  static readonly REASONS = 5;
  runs = 0;
  ms = 0;
  requests = 0;
  failures = 0;
  /** The first few distinct reasons a request failed for, with their counts; the rest under "other". */
  readonly reasons = new Map<string, number>();
  /** Sticky clients that changed pod while the pod they left was in DNS (the goal is zero). */
  movedInDns = 0;
  /** Sticky clients that changed pod after theirs left DNS (expected). */
  movedAfterRemoval = 0;
  readonly latency = new Latencies();
  /** The longest time from the first to the last failure within one run of the phase. */
  longestFailingMs = 0;
  #firstFailureAt: number | null = null;

  /** A run of the phase starts. */
  begin(): void {
    this.#firstFailureAt = null;
  }

  fail(reason: string, at = performance.now()): void {
    this.#firstFailureAt ??= at;
    this.longestFailingMs = Math.max(this.longestFailingMs, at - this.#firstFailureAt);
    this.failures++;
    const key = this.reasons.has(reason) || this.reasons.size < PhaseStats.REASONS ? reason : 'other';
    this.reasons.set(key, (this.reasons.get(key) ?? 0) + 1);
  }
}

export type ClientOptions = Readonly<{ port: number; sticky: number; cookieless: number; pauseMs: number }>;

/** What the clients read of the soak: the phase of the moment, and when a pod last left DNS. */
export type ClientView = Readonly<{ phase: () => PhaseStats; leftDnsAt: (pod: string) => number }>;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Clients {
  readonly #o: ClientOptions;
  readonly #view: ClientView;
  #running = false;
  #loops: Promise<void>[] = [];

  constructor(o: ClientOptions, view: ClientView) {
    this.#o = o;
    this.#view = view;
  }

  start(): void {
    this.#running = true;
    for (let i = 0; i < this.#o.sticky; i++) this.#loops.push(this.#loop(true));
    for (let i = 0; i < this.#o.cookieless; i++) this.#loops.push(this.#loop(false));
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
    this.#loops = [];
  }

  async #loop(sticky: boolean): Promise<void> {
    let cookie: string | null = null;
    let pod: string | null = null;
    let landedAt = 0; // when this client first reached its current pod
    while (this.#running) {
      const stats = this.#view.phase();
      const sentAt = performance.now();
      try {
        const r = await httpGet(this.#o.port, sticky ? cookie : null);
        stats.requests++;
        stats.latency.add(performance.now() - sentAt);
        if (r.status >= 500) stats.fail(`HTTP ${String(r.status)}`);
        else if (sticky && r.status === 200) {
          // A client moving off a pod that has not left DNS since the client landed on it is a broken sticky session.
          if (pod !== null && r.body !== pod) {
            if (this.#view.leftDnsAt(pod) < landedAt) stats.movedInDns++;
            else stats.movedAfterRemoval++;
          }
          if (r.body !== pod) landedAt = sentAt;
          pod = r.body;
          if (r.cookie !== null) cookie = r.cookie;
        }
      } catch (err) {
        stats.requests++;
        stats.fail(err instanceof Error ? err.message : String(err));
      }
      if (this.#o.pauseMs > 0) await sleep(this.#o.pauseMs);
      else await new Promise((r) => setImmediate(r));
    }
  }
}
