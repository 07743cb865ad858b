import type { Logger } from 'pino';
import type { PassReport } from './agent.ts';

export type LoopOptions = Readonly<{
  pass: () => Promise<PassReport>;
  intervalMs: number;
  /** Poll sooner than the interval when the answers' TTL is shorter (--respect-ttl). */
  respectTtl: boolean;
  signal: AbortSignal;
  log: Logger;
  /** 0 <= random() < 1; injected so tests can pin the jitter. */
  random: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}>;

/** Up to 10% of the interval added to each sleep, so replicas do not query in lockstep. */
export const JITTER = 0.1;
/** The shortest wait a short TTL can ask for: a TTL of 0 must not make the agent spin. */
export const MIN_TTL_WAIT_MS = 250;

/** How long to wait before the next pass. */
export function nextWaitMs(o: Pick<LoopOptions, 'intervalMs' | 'respectTtl' | 'random'>, report: PassReport): number {
  const ttlMs = report.ttlSeconds === null ? Infinity : Math.max(MIN_TTL_WAIT_MS, report.ttlSeconds * 1_000);
  const base = o.respectTtl ? Math.min(o.intervalMs, ttlMs) : o.intervalMs;
  return Math.round(base * (1 + JITTER * o.random()));
}

/**
 * The daemon: a pass, a sleep of one interval (plus jitter), again, until `signal` aborts.
 * A pass in flight is finished, never cut: abort only ends the sleep. Hard errors (a
 * configuration HAProxy cannot work with) end the loop by rejecting.
 */
export async function runLoop(o: LoopOptions): Promise<void> {
  let failing = false;
  while (!o.signal.aborted) {
    const report = await o.pass();
    if (!report.ok && !failing) o.log.warn({ problems: report.problems }, 'pass incomplete; retrying every interval');
    if (report.ok && failing) o.log.info('pass complete again: HAProxy matches DNS');
    failing = !report.ok;
    if (isAborted(o.signal)) break; // read through a function: the await above may have changed it
    await o.sleep(nextWaitMs(o, report), o.signal);
  }
}

const isAborted = (signal: AbortSignal): boolean => signal.aborted;

/**
 * Sleeps on the global setTimeout on purpose: vitest's fake timers control it (they do not
 * control node:timers/promises). Resolves early, without error, when `signal` aborts.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
