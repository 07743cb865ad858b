/**
 * `slow`: a DNS server whose SRV answers leave 2.5 s late (a CoreDNS under a rollout storm,
 * a throttled node cache). Both sides start cold at the same moment, against HAProxies
 * whose slots are empty, and ask through a delaying proxy in front of BIND; the figure is
 * the time from that start until every pod of the service is served. Then, both sides
 * serving the service, one change at a time (a pod replaced): the time from the update to
 * each side serving the new set, behind the same slow server.
 */
import { podKeys, podsAt, SERVICE, TestBind, type Pod } from '../test/support/bind.ts';
import { envInt, envInts, fmt, INTERVAL_MS, quantile, sleep, targetRow, until, WEIGHT } from './common.ts';
import { DelayingDnsProxy } from './dns-proxy.ts';
import { startSides, watchBoth } from './sides.ts';

export const SLOW_DELAY_MS = 2_500;
export const SLOW_LIMIT_MS = 30_000;
const LIMIT = `${String(SLOW_LIMIT_MS / 1000)} s`;

export type SlowRun = Readonly<{
  size: number;
  run: number;
  /** From the start to every pod served (null: not within the limit). */
  agentMs: number | null;
  nativeMs: number | null;
  /** From the start to the side's first question. */
  agentFirstMs: number | null;
  nativeFirstMs: number | null;
}>;
/** One change behind the slow server: from the update to every side serving the new set (null: not within the limit). */
export type SlowChange = Readonly<{ run: number; agentMs: number | null; nativeMs: number | null }>;
export type SlowResult = Readonly<{ runs: readonly SlowRun[]; changes: readonly SlowChange[]; proxy: DelayingDnsProxy['stats'] }>;

/** The service's pods while one change at a time is made. */
const CHANGE_PODS = 10;

export async function slowPart(): Promise<SlowResult> {
  // Pods of the service (the slots are 1.4 times as many; an RRset stays under 64 KB, about 1200 SRV records here).
  const sizes = envInts('BENCH_SLOW_SIZES', [10, 100], 1, 1_000);
  const runCount = envInt('BENCH_SLOW_RUNS', 3, 1, 20);
  const bind = new TestBind();
  await bind.start();
  // A proxy for each side, so that each side's first question is timed.
  const proxy = (): DelayingDnsProxy =>
    new DelayingDnsProxy({ upstream: { host: '127.0.0.1', port: bind.port }, delayMs: SLOW_DELAY_MS, delayed: ['SRV'] });
  const agentProxy = proxy();
  const nativeProxy = proxy();
  const runs: SlowRun[] = [];
  const changes: SlowChange[] = [];
  const changeCount = envInt('BENCH_SLOW_CHANGES', 6, 0, 50);
  try {
    await agentProxy.start();
    await nativeProxy.start();
    for (const size of sizes) {
      const pods = podsAt(0, size);
      await bind.setPods(pods, SERVICE, 0, WEIGHT);
      for (let run = 1; run <= runCount; run++) {
        // HAProxy's defaults spelled out: `timeout retry 1s`, and `resolve_retries 3` before a resolution counts as failed.
        agentProxy.firstQuestionAt = null;
        nativeProxy.firstQuestionAt = null;
        const sides = await startSides({
          slots: Math.ceil(size * 1.4),
          dnsPort: agentProxy.port,
          nativeDnsPort: nativeProxy.port,
          resolverLines: ['timeout retry 1s'],
        });
        try {
          const { agent, native } = await watchBoth(sides, podKeys(pods), sides.startedAt, SLOW_LIMIT_MS);
          const since = (at: number | null): number | null => (at === null ? null : at - sides.startedAt);
          const r = {
            size,
            run,
            agentMs: agent.ms,
            nativeMs: native.ms,
            agentFirstMs: since(agentProxy.firstQuestionAt),
            nativeFirstMs: since(nativeProxy.firstQuestionAt),
          };
          runs.push(r);
          const show = (ms: number | null): string => (ms === null ? `not within ${LIMIT}` : fmt(ms));
          process.stdout.write(
            `  ${String(size)} pods, run ${String(run)}: agent ${show(r.agentMs)} (first question at ${show(r.agentFirstMs)}), native ${show(r.nativeMs)} (${show(r.nativeFirstMs)})\n`,
          );
        } finally {
          await sides.stop();
        }
      }
    }
    if (changeCount > 0) {
      process.stdout.write(`  one change at a time, ${String(CHANGE_PODS)} pods:\n`);
      for (const c of await oneChangeAtATime(agentProxy, bind, nativeProxy.port, changeCount)) changes.push(c);
    }
  } finally {
    await agentProxy.stop();
    await nativeProxy.stop();
    await bind.stop();
  }
  const stats = { ...agentProxy.stats };
  for (const k of Object.keys(stats) as (keyof typeof stats)[]) stats[k] += nativeProxy.stats[k];
  return { runs, changes, proxy: stats };
}

/**
 * Both sides serving CHANGE_PODS pods behind the delaying proxies; then `count` times, one
 * pod replaced in one update while the agent has a question in flight (its answer, with
 * the set before the change, held back by the proxy: 0.2 to 1.2 s after BIND made it), at a
 * random phase of HAProxy's resolver: the time from the update to each side serving
 * exactly the new set.
 */
async function oneChangeAtATime(agentProxy: DelayingDnsProxy, bind: TestBind, nativeDnsPort: number, count: number): Promise<SlowChange[]> {
  let current: Pod[] = podsAt(0, CHANGE_PODS);
  await bind.setPods(current, SERVICE, 0, WEIGHT);
  const sides = await startSides({
    slots: Math.ceil(CHANGE_PODS * 1.4),
    dnsPort: agentProxy.port,
    nativeDnsPort,
    resolverLines: ['timeout retry 1s'],
  });
  const out: SlowChange[] = [];
  try {
    const start = await watchBoth(sides, podKeys(current), sides.startedAt, SLOW_LIMIT_MS);
    if (start.agent.ms === null || start.native.ms === null) throw new Error('slow DNS, one change: the sides did not serve the service');
    let next = CHANGE_PODS;
    for (let run = 1; run <= count; run++) {
      await sleep(2_000 + Math.random() * INTERVAL_MS); // a random phase of HAProxy's timers
      // The agent's next SRV answer leaves BIND (with the set as it is), held 2.5 s: the change comes while it is in flight.
      const held = agentProxy.lastHeldAt;
      await until(() => Promise.resolve(agentProxy.lastHeldAt !== held), 10_000);
      await sleep(200 + Math.random() * INTERVAL_MS);
      const want = [...current.slice(1), ...podsAt(next++, 1)];
      await bind.changePods(current, want, WEIGHT);
      const t0 = performance.now();
      current = want;
      const { agent, native } = await watchBoth(sides, podKeys(want), t0, SLOW_LIMIT_MS);
      out.push({ run, agentMs: agent.ms, nativeMs: native.ms });
      const show = (ms: number | null): string => (ms === null ? `not within ${LIMIT}` : fmt(ms));
      process.stdout.write(`    change ${String(run)}: agent ${show(agent.ms)}, native ${show(native.ms)}\n`);
    }
  } finally {
    await sides.stop();
  }
  return out;
}

/** Median and max of the runs that converged, and how many did not. */
function figures(xs: readonly (number | null)[]): { median: number; max: number; missed: number } {
  const ok = xs.flatMap((x) => (x === null ? [] : [x]));
  const missed = xs.length - ok.length;
  // A run that did not converge counts as later than any that did: the median and max say so when it is among them.
  const all = xs.map((x) => x ?? Infinity);
  return { median: quantile(all, 0.5), max: quantile(all, 1), missed };
}

const show = (ms: number): string => (ms === Infinity ? `over ${LIMIT}` : fmt(ms));

/** One side's runs in words: their median and max, and how many did not converge. */
function describe(f: ReturnType<typeof figures>, runs: number): string {
  if (f.missed === runs) return `did not converge within ${LIMIT} in any of ${String(runs)} runs`;
  const missed = f.missed > 0 ? `; ${String(f.missed)} of ${String(runs)} runs did not converge within ${LIMIT}` : '';
  return `median ${show(f.median)}, max ${show(f.max)}${missed}`;
}

/** A run's time from the side's first question to every pod served. */
const fromFirst = (ms: number | null, first: number | null): number | null => (ms === null || first === null ? null : ms - first);

/** The one-change row: agent no later than native, on the median of the changes. */
function changeTarget(changes: readonly SlowChange[]): string[] {
  if (changes.length === 0) return [];
  const a = figures(changes.map((x) => x.agentMs));
  const n = figures(changes.map((x) => x.nativeMs));
  const what = `slow DNS (SRV answers ${fmt(SLOW_DELAY_MS)} late), ${String(CHANGE_PODS)} pods, one change (a pod replaced), from the update to the new set served, median of ${String(changes.length)} changes: agent no later than native`;
  const by = a.median === Infinity ? `more than ${fmt(SLOW_LIMIT_MS - n.median)}` : fmt(a.median - n.median);
  return [targetRow(what, `agent ${describe(a, changes.length)}; native ${describe(n, changes.length)}`, a.median <= n.median, by)];
}

export function slowTargets(r: SlowResult): string[] {
  return [
    ...changeTarget(r.changes),
    ...[...new Set(r.runs.map((x) => x.size))].flatMap((size) => {
      const runs = r.runs.filter((x) => x.size === size);
      const row = (from: string, agentMs: (x: SlowRun) => number | null, nativeMs: (x: SlowRun) => number | null): string => {
        const a = figures(runs.map(agentMs));
        const n = figures(runs.map(nativeMs));
        const what = `slow DNS (SRV answers ${fmt(SLOW_DELAY_MS)} late), ${String(size)} pods, ${from} to every pod served, median of ${String(runs.length)} runs: agent no later than native`;
        const measured = `agent ${describe(a, runs.length)}; native ${describe(n, runs.length)}`;
        const by = a.median === Infinity ? `more than ${fmt(SLOW_LIMIT_MS - n.median)}` : fmt(a.median - n.median);
        return targetRow(what, measured, a.median <= n.median, by);
      };
      return [
        row(
          'cold start',
          (x) => x.agentMs,
          (x) => x.nativeMs,
        ),
        row(
          "from each side's first question",
          (x) => fromFirst(x.agentMs, x.agentFirstMs),
          (x) => fromFirst(x.nativeMs, x.nativeFirstMs),
        ),
      ];
    }),
  ];
}

export function slowSection(r: SlowResult, runLabel: string): string[] {
  const sizes = [...new Set(r.runs.map((x) => x.size))];
  const cell = (ms: number | null): string => (ms === null ? `did not converge within ${LIMIT}` : fmt(ms));
  const median = (xs: readonly (number | null)[]): string => show(figures(xs).median);
  return [
    `## Slow DNS server: SRV answers ${fmt(SLOW_DELAY_MS)} late`,
    '',
    `${runLabel} Each side asks through a proxy of its own (in the bench's process, UDP and TCP) in front of the same BIND, which forwards every question and holds each SRV answer back ${fmt(SLOW_DELAY_MS)}, its ID as BIND sent it; A, AAAA and SOA answers pass at once. Each run starts a fresh agent (as the image starts it; its defaults: \`--dns-timeout\` from resolv.conf, else 5 s; retries as its round trips say, at most \`--interval\` apart, over TCP for the SRV record, whose first question goes over UDP and TCP at once) and a fresh HAProxy with \`resolvers\` (\`tcp@\`, \`timeout resolve 1s\`, \`timeout retry 1s\`, \`hold valid 1s\`) at the same moment, each against slots that are empty; time runs from that start until \`show servers state\` lists every pod as serving (polled every 20 ms), for at most ${LIMIT}. Each proxy notes when its side's first question came: what comes before it is the process starting (the agent is a Node.js process: Node itself takes some 25 ms to run a first line, the agent's modules some 40 ms more), what comes after it is how the side asks and applies.`,
    '',
    `| pods | runs | agent median | agent max | native median | native max | first question, median (agent, native) | from the first question, median (agent, native) | did not converge within ${LIMIT} (agent, native) |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...sizes.map((size) => {
      const runs = r.runs.filter((x) => x.size === size);
      const a = figures(runs.map((x) => x.agentMs));
      const n = figures(runs.map((x) => x.nativeMs));
      const first = `${median(runs.map((x) => x.agentFirstMs))}, ${median(runs.map((x) => x.nativeFirstMs))}`;
      const after = `${median(runs.map((x) => fromFirst(x.agentMs, x.agentFirstMs)))}, ${median(runs.map((x) => fromFirst(x.nativeMs, x.nativeFirstMs)))}`;
      return `| ${String(size)} | ${String(runs.length)} | ${show(a.median)} | ${show(a.max)} | ${show(n.median)} | ${show(n.max)} | ${first} | ${after} | ${String(a.missed)}, ${String(n.missed)} |`;
    }),
    '',
    ...(r.changes.length === 0
      ? []
      : [
          `One change at a time: a fresh agent and a fresh HAProxy as above, through the same proxies, both serving ${String(CHANGE_PODS)} pods; then, ${String(r.changes.length)} times, one pod replaced by a new one in one update (BIND raises the zone's serial), made while the agent has an SRV question in flight whose answer BIND has made with the set before the change (0.2 to 1.2 s after BIND answered it, the proxy holding it back), some 2 to 4 s after the last change was served (a random phase of HAProxy's timers); time runs from the update's completion until \`show servers state\` lists exactly the new set as serving. The agent's answer in flight says the old set: it asks again when its serial watch (\`--watch 300ms\`, SOA answers not held back) sees the serial move, whatever it has in flight; HAProxy's resolver asks at its next \`timeout resolve\`.`,
          '',
          '| change | agent | native |',
          '|---|---|---|',
          ...r.changes.map((c) => `| ${String(c.run)} | ${cell(c.agentMs)} | ${cell(c.nativeMs)} |`),
          `| median | ${median(r.changes.map((c) => c.agentMs))} | ${median(r.changes.map((c) => c.nativeMs))} |`,
          '',
        ]),
    `The proxies forwarded ${String(r.proxy.questions)} questions and held back ${String(r.proxy.held)} SRV answers in all (both sides, every run).`,
    '',
    '| target | measured | met |',
    '|---|---|---|',
    ...slowTargets(r),
    '',
    'Runs:',
    '',
    "| pods | run | agent | agent's first question | native | native's first question |",
    '|---|---|---|---|---|---|',
    ...r.runs.map(
      (x) =>
        `| ${String(x.size)} | ${String(x.run)} | ${cell(x.agentMs)} | ${cell(x.agentFirstMs)} | ${cell(x.nativeMs)} | ${cell(x.nativeFirstMs)} |`,
    ),
    '',
  ];
}
