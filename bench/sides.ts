/**
 * The two sides every comparison runs: one HAProxy whose slots the agent fills, one whose
 * `resolvers` section follows the same name itself; and how each side's progress toward a
 * set of pods is watched.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { nodeFlags } from '../src/v8-flags.ts';
import { agentArgs, TestAgent } from '../test/support/agent.ts';
import { SERVICE } from '../test/support/bind.ts';
import { TestHaproxy } from '../test/support/haproxy.ts';
import { freePort } from '../test/support/procs.ts';
import { INTERVAL_MS, POD_NET, sleep } from './common.ts';

/** The agent starts as the image starts it: its Node.js flags on Node's command line (the bin would start Node again to add them). */
const IMAGE_NODE_ARGS = nodeFlags(Number(process.versions.node.split('.')[0]));

/** BENCH_AGENT_LOG=<file>: the agent logs at debug level, appended to that file when its side stops (why was an event slow?). */
const AGENT_LOG = process.env['BENCH_AGENT_LOG'];

export type SideOptions = Readonly<{
  /** Server-template slots on each side. */
  slots: number;
  /** Where both sides ask (127.0.0.1). */
  dnsPort: number;
  /** Where the native side asks instead, when each side has a port of its own. */
  nativeDnsPort?: number;
  /** Lines added to the native side's `resolvers` section. */
  resolverLines?: readonly string[];
}>;

export type Sides = Readonly<{
  agentSide: TestHaproxy;
  native: TestHaproxy;
  agent: TestAgent;
  /** performance.now() when the agent and the native HAProxy were started, together. */
  startedAt: number;
  stop: () => Promise<void>;
}>;

/**
 * Starts the agent's HAProxy (its slots empty), then the agent and the native HAProxy at
 * the same moment: both begin cold. Native: `nameserver ns1 tcp@...`, `accepted_payload_size
 * 65535`, `timeout resolve` and `hold valid` of one interval. Agent: `--interval`, `--drain 0`,
 * the pod network allowed, its other defaults, started as the image starts it.
 */
export async function startSides(o: SideOptions): Promise<Sides> {
  const agentSide = new TestHaproxy({
    frontendPort: await freePort(),
    serverLines: [`server-template srv ${String(o.slots)} 127.0.0.1:9 disabled`],
  });
  const native = new TestHaproxy({
    frontendPort: await freePort(),
    serverLines: [`server-template srv ${String(o.slots)} ${SERVICE} resolvers bind init-addr none`],
  });
  const resolvers = [
    'resolvers bind',
    `    nameserver ns1 tcp@127.0.0.1:${String(o.nativeDnsPort ?? o.dnsPort)}`,
    '    accepted_payload_size 65535',
    `    timeout resolve ${String(INTERVAL_MS)}ms`,
    `    hold valid ${String(INTERVAL_MS)}ms`,
    ...(o.resolverLines ?? []).map((l) => `    ${l}`),
  ];
  writeFileSync(native.cfg, native.config().replace('defaults\n', `${resolvers.join('\n')}\n\ndefaults\n`));
  await agentSide.start();
  let agent: TestAgent | null = null;
  const stop = async (): Promise<void> => {
    await agent?.stop();
    if (AGENT_LOG !== undefined && agent !== null) appendFileSync(AGENT_LOG, agent.proc.output());
    await agentSide.stop();
    await native.stop();
  };
  const startedAt = performance.now();
  try {
    agent = new TestAgent(
      [
        ...agentArgs(agentSide.socket, `127.0.0.1:${String(o.dnsPort)}`, `be_app=${SERVICE}`),
        ...POD_NET,
        '--interval',
        `${String(INTERVAL_MS)}ms`,
        '--drain',
        '0',
        '--log-level',
        AGENT_LOG === undefined ? 'warn' : 'debug',
      ],
      {},
      IMAGE_NODE_ARGS,
    );
    await native.start();
  } catch (err) {
    await stop();
    throw err;
  }
  return { agentSide, native, agent, startedAt, stop };
}

/** How one side reached a set of pods: when (null: not within the limit), and its longest stall on the way. */
export type Progress = Readonly<{ ms: number | null; stallMs: number }>;

/**
 * Follows one side toward `want` (sorted address:port), from `t0`: the time it serves
 * exactly `want`, and the longest stall, the longest time in which the side came no nearer
 * to it (nearer: fewer servers missing plus fewer extra, than ever before since `t0`); a
 * side that never gets there stalls until the limit from its last step.
 */
export class ProgressWatch {
  readonly #want: ReadonlySet<string>;
  readonly #t0: number;
  #best = Infinity;
  #lastStep: number;
  #stall = 0;
  #at: number | null = null;

  constructor(want: readonly string[], t0: number) {
    this.#want = new Set(want);
    this.#t0 = t0;
    this.#lastStep = t0;
  }

  get done(): boolean {
    return this.#at !== null;
  }

  /** What the side serves at `t` (null: it could not be read). */
  see(serving: readonly string[] | null, t: number): void {
    if (this.#at !== null || serving === null) return;
    let extra = 0;
    let found = 0;
    for (const s of serving) {
      if (this.#want.has(s)) found++;
      else extra++;
    }
    const distance = this.#want.size - found + extra;
    if (this.#best === Infinity && distance > 0) {
      this.#best = distance; // where the side stands when first read: a starting point, not a step
      return;
    }
    if (distance >= this.#best) return;
    this.#best = distance;
    this.#stall = Math.max(this.#stall, t - this.#lastStep);
    this.#lastStep = t;
    if (distance === 0) this.#at = t - this.#t0;
  }

  /** The figures when the watch ends at `t`. */
  result(t: number): Progress {
    return { ms: this.#at, stallMs: this.#at === null ? Math.max(this.#stall, t - this.#lastStep) : this.#stall };
  }
}

/**
 * Polls both sides every 20 ms from `t0` until both serve `want` or `limitMs` passes.
 * A side whose socket is not up yet counts as not nearer.
 */
export async function watchBoth(
  sides: Pick<Sides, 'agentSide' | 'native'>,
  want: readonly string[],
  t0: number,
  limitMs: number,
): Promise<{ agent: Progress; native: Progress }> {
  const agent = new ProgressWatch(want, t0);
  const native = new ProgressWatch(want, t0);
  const read = (h: TestHaproxy): Promise<string[] | null> => h.serving().catch(() => null);
  let t = performance.now();
  while (t - t0 < limitMs && !(agent.done && native.done)) {
    const [a, n] = await Promise.all([agent.done ? null : read(sides.agentSide), native.done ? null : read(sides.native)]);
    t = performance.now();
    agent.see(a, t);
    native.see(n, t);
    await sleep(20);
  }
  const end = Math.min(performance.now(), t0 + limitMs);
  return { agent: agent.result(end), native: native.result(end) };
}
