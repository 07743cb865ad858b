/**
 * Scale events on one BIND zone, followed by both sides: the time from each event's last
 * DNS update to each HAProxy serving exactly the new set.
 */
import { podKeys, podsAt, SERVICE, TestBind, type Pod } from '../test/support/bind.ts';
import { fmt, joined, quantile, sleep, until, INTERVAL_MS, WEIGHT } from './common.ts';
import { startSides, watchBoth } from './sides.ts';

const REPEATS = 3;
const EVENT_TIMEOUT_MS = 20_000;

export type Sample = {
  size: number;
  event: string;
  agentMs: number | null;
  nativeMs: number | null;
  /** The longest time in the event with no step toward the new set. */
  agentStallMs: number;
  nativeStallMs: number;
};

/** One scale event: its label, and the pods after it (from the pods before it and a source of fresh pods). */
export type Step = Readonly<{ label: string; next: (current: readonly Pod[], fresh: (n: number) => Pod[]) => Pod[] }>;

/** -30%, +30%, replace 30%, three times: the events of a service that breathes. */
export const breathing = (size: number): Step[] => {
  const step = Math.max(1, Math.ceil(size * 0.3));
  const one: Step[] = [
    { label: `-${String(step)}`, next: (c) => c.slice(step) },
    { label: `+${String(step)}`, next: (c, fresh) => [...c, ...fresh(step)] },
    { label: 'replace 30%', next: (c, fresh) => [...c.slice(step), ...fresh(step)] },
  ];
  return Array.from({ length: REPEATS }, () => one).flat();
};

/** To `n` pods: the first `n` of those in DNS when fewer, fresh ones added when more. */
export const to = (n: number, label = `to ${String(n)}`): Step => ({
  label,
  next: (c, fresh) => (n <= c.length ? c.slice(0, n) : [...c, ...fresh(n - c.length)]),
});

/** Large events, as the issue tracker measured them: 1000 -> 100 -> 1000 and 1000 -> 10 -> 1000. */
export const LARGE: readonly Step[] = [0, 1].flatMap(() => [
  to(100, '1000 -> 100'),
  to(1000, '100 -> 1000'),
  to(10, '1000 -> 10'),
  to(1000, '10 -> 1000'),
]);
/** Cold scale-up: 10 -> 1000 pods whose addresses no cache holds, five times. */
export const COLD: readonly Step[] = Array.from({ length: 5 }, () => [to(1000, 'cold 10 -> 1000'), to(10, '1000 -> 10')]).flat();

/** Something that runs beside the events (another client's load): started once both sides serve the first set. */
export type Beside = Readonly<{ start: () => Promise<void>; stop: () => Promise<void> }>;

export type ConvergenceOptions = Readonly<{
  /** Pods in DNS before the first event (default: `size`). */
  initial?: number;
  eventTimeoutMs?: number;
  beside?: (bind: TestBind) => Beside;
  /** The BIND to run (default: as the tests run it). */
  bind?: () => TestBind;
}>;

/** The same headless service in two HAProxies: one filled by the agent, one by `resolvers`. */
export async function convergence(size: number, script: readonly Step[] = breathing(size), o: ConvergenceOptions = {}): Promise<Sample[]> {
  const initial = o.initial ?? size;
  const bind = o.bind?.() ?? new TestBind();
  await bind.start();
  let current = podsAt(0, initial);
  await bind.setPods(current, SERVICE, 0, WEIGHT).catch((err: unknown) => {
    throw new Error(`${String(err)}\nnamed: ${bind.updateLog()}`);
  });
  const beside = o.beside?.(bind);
  const samples: Sample[] = [];
  try {
    const sides = await startSides({ slots: Math.ceil(size * 1.4), dnsPort: bind.port });
    try {
      await until(
        async () =>
          joined(await sides.agentSide.serving()) === joined(podKeys(current)) &&
          joined(await sides.native.serving()) === joined(podKeys(current)),
        60_000,
      );
      await beside?.start();
      let next = initial; // fresh addresses for every pod that arrives
      const fresh = (n: number): Pod[] => {
        const pods = podsAt(next, n);
        next += n;
        return pods;
      };
      // The set never grows past `size`: BIND keeps an RRset under 64 KB, about 1200 SRV records here.
      for (const { label, next: after } of script) {
        const want = after(current, fresh);
        // One update message holds a few hundred records: a large event goes in several (the SRV set last).
        const large = Math.abs(want.length - current.length) > 300;
        const sent = performance.now();
        await updated(bind, () => (large ? bind.setPods(want, SERVICE, 0, WEIGHT) : bind.changePods(current, want, WEIGHT)));
        const t0 = performance.now();
        current = want;
        const { agent, native } = await watchBoth(sides, podKeys(want), t0, o.eventTimeoutMs ?? EVENT_TIMEOUT_MS);
        samples.push({
          size,
          event: label,
          agentMs: agent.ms,
          nativeMs: native.ms,
          agentStallMs: agent.stallMs,
          nativeStallMs: native.stallMs,
        });
        process.stdout.write(
          `  ${String(size)} pods, ${label}: agent ${agent.ms === null ? 'timeout' : fmt(agent.ms)}, native ${native.ms === null ? 'timeout' : fmt(native.ms)} (the update took ${fmt(t0 - sent)})\n`,
        );
        await sleep(300 + Math.random() * INTERVAL_MS); // start the next event at a random phase of both timers
      }
    } finally {
      await beside?.stop();
      await sides.stop();
    }
  } finally {
    await bind.stop();
  }
  return samples;
}

/**
 * Runs a zone update, again (twice at most) when nsupdate fails: on a machine under load a
 * TCP connection to BIND is now and then reset. An update states the records it adds and
 * deletes, so running it again is harmless.
 */
async function updated(bind: TestBind, update: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await update();
      return;
    } catch (err) {
      const why = `${String(err)}\nnamed: ${bind.updateLog()}`;
      if (attempt >= 3) throw new Error(why);
      process.stdout.write(`  (the update failed, sent again: ${String(err).split('\n')[0] ?? ''})\n`);
      await sleep(200);
    }
  }
}

/** Median figures of one kind of event. */
export type Row = {
  kind: string;
  size: number;
  events: number;
  agent: number;
  native: number;
  agent95: number;
  native95: number;
  agentTimeouts: number;
  nativeTimeouts: number;
};

export function summarize(kind: string, size: number, s: readonly Sample[]): Row {
  const a = s.flatMap((x) => (x.agentMs === null ? [] : [x.agentMs]));
  const n = s.flatMap((x) => (x.nativeMs === null ? [] : [x.nativeMs]));
  return {
    kind,
    size,
    events: s.length,
    agentTimeouts: s.length - a.length,
    nativeTimeouts: s.length - n.length,
    agent: quantile(a, 0.5),
    agent95: quantile(a, 0.95),
    native: quantile(n, 0.5),
    native95: quantile(n, 0.95),
  };
}
