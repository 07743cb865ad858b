/**
 * When each lane runs again. Every lane has its own timer: a slow DNS name or a hung
 * socket waits only for itself. Sleeps use the global setTimeout on purpose: vitest's fake
 * timers control it (they do not control node:timers/promises).
 */

/** Up to 10% of the interval added to each sleep, so replicas do not query in lockstep. */
const JITTER = 0.1;
/**
 * A socket lane whose run is due within this share of the interval runs with a DNS lane's
 * run instead (`Wakeup.wakeIfDueWithin`): at rest, two wake-ups of the process become one.
 */
export const JOIN_WITHIN = 0.1;
/** The shortest wait a short TTL can ask for: a TTL of 0 must not make the agent spin. */
export const MIN_TTL_WAIT_MS = 250;

/**
 * A DNS lane's runs in flight at once: behind a server 2.5 s late, one started every
 * interval (1 s) and one more when the zone's serial moves.
 */
export const DNS_RUNS_IN_FLIGHT = 4;

export type WaitOptions = Readonly<{
  intervalMs: number;
  /** Poll sooner than the interval when the answer's TTL is shorter (--respect-ttl). */
  respectTtl: boolean;
  /** 0 <= random() < 1; injected so tests can pin the jitter. */
  random: () => number;
  /** How often a DNS lane's zone serial is asked between runs (--watch); 0 or absent: never. */
  watchMs?: number;
}>;

/** How long a lane waits before its next run; `ttlSeconds` is the DNS answer's, null when none. */
export function nextWaitMs(o: WaitOptions, ttlSeconds: number | null): number {
  const ttlMs = ttlSeconds === null ? Infinity : Math.max(MIN_TTL_WAIT_MS, ttlSeconds * 1_000);
  const base = o.respectTtl ? Math.min(o.intervalMs, ttlMs) : o.intervalMs;
  return Math.round(base * (1 + JITTER * o.random()));
}

/**
 * A lane's sleep that another lane can cut short: a DNS lane whose endpoints changed wakes
 * the socket lanes, so a change reaches HAProxy without waiting out their interval. A wake
 * while the lane is running is kept, and its next sleep returns at once.
 */
export class Wakeup {
  #pending = false;
  #wake: (() => void) | null = null;
  /** When the sleep in progress ends by itself (Date.now() time), null when not sleeping. */
  #due: number | null = null;
  /** The signal listened to: one listener for every sleep, not one added and removed each time (a watch sleeps several times a second). */
  #signal: AbortSignal | null = null;

  wake(): void {
    if (this.#wake === null) this.#pending = true;
    else this.#wake();
  }

  /** Forgets a wake kept for the next sleep: what it asked for has begun. */
  clear(): void {
    this.#pending = false;
  }

  /** Ends the sleep in progress when it would end within `ms` anyway: two wake-ups become one. */
  wakeIfDueWithin(ms: number): void {
    if (this.#due !== null && this.#due - Date.now() <= ms) this.#wake?.();
  }

  /** Resolves after `ms`, on wake(), or when `signal` aborts; never rejects. */
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (this.#pending || signal.aborted) {
      this.#pending = false;
      return Promise.resolve();
    }
    if (this.#signal !== signal) {
      this.#signal = signal;
      signal.addEventListener('abort', () => this.#wake?.(), { once: true });
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = null;
        this.#due = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
      this.#due = Date.now() + ms;
    });
  }
}

/**
 * Runs `run` until `signal` aborts, sleeping `waitMs(result)` between runs. A run in
 * flight is finished, never cut: abort only ends the sleep. A run that throws ends the
 * loop by rejecting.
 */
export async function repeat<T>(run: () => Promise<T>, waitMs: (result: T) => number, wakeup: Wakeup, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const result = await run();
    if (isAborted(signal)) break; // read through a function: the await above may have changed it
    await wakeup.sleep(waitMs(result), signal);
  }
}

const isAborted = (signal: AbortSignal): boolean => signal.aborted;

/**
 * Runs `run` until `signal` aborts: each run `waitMs(last)` after the one before it began,
 * or at once on wake(), whether or not the runs before it have ended, at most `maxInFlight`
 * at once (a run due past that begins when one ends). `last` is what the last run that
 * ended with a result gave (null: none yet). A DNS lane's schedule: a slow server's answer
 * to an older question does not hold up a newer one, so a change is asked about when the
 * zone's serial moves or the interval comes, not once a stale answer is in. A run that
 * throws ends the loop, which rejects with it once the runs in flight have ended.
 */
export async function overlap<T>(
  run: () => Promise<T | null>,
  waitMs: (last: T | null) => number,
  wakeup: Wakeup,
  signal: AbortSignal,
  maxInFlight: number,
): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  const state: { last: T | null; failed: { err: unknown } | null } = { last: null, failed: null };
  const begin = (): void => {
    wakeup.clear(); // a wake that came before this run began is answered by it
    const p: Promise<void> = run()
      .then(
        (r) => {
          if (r !== null) state.last = r;
        },
        (err: unknown) => {
          state.failed ??= { err };
          wakeup.wake();
        },
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  // Read through a function: the awaits below may have changed it.
  const over = (): boolean => isAborted(signal) || state.failed !== null;
  begin();
  while (!over()) {
    await wakeup.sleep(waitMs(state.last), signal);
    while (inFlight.size >= maxInFlight && !over()) await Promise.race(inFlight);
    if (over()) break;
    begin();
  }
  await Promise.all(inFlight);
  if (state.failed !== null) throw state.failed.err;
}

/**
 * Asks `read` every `everyMs` until `signal` aborts, and calls `changed` when what it
 * reads is new: the first value read, and every one that differs from the one before
 * (null: nothing read). The DNS lanes' serial watch: a zone whose serial moved is asked
 * again at once, not at the next interval. The first value counts as new because a change
 * may have come between the lane's run and that read: every serial the watch has seen is
 * then followed by a run that asks DNS after it. It only ever hastens a run.
 */
export async function watch(read: () => Promise<number | null>, changed: () => void, everyMs: number, signal: AbortSignal): Promise<void> {
  const pause = new Wakeup();
  let last: number | null = null;
  while (!signal.aborted) {
    await pause.sleep(everyMs, signal);
    if (isAborted(signal)) break;
    const now = await read();
    if (now === null) continue;
    if (now !== last) changed();
    last = now;
  }
}
