/**
 * `reload`: HAProxy reloaded under sticky load. N clients, each keeping the cookie HAProxy
 * gave it, send requests one after another, each on a new connection, through two HAProxies
 * to the same 4 pods: one whose slots the agent fills, one whose `resolvers` section follows
 * the same SRV record. Both reload at the same moment, once a run; each side's failed
 * requests around it are counted. Variants: `-sf` (a new process binds its sockets anew)
 * or `-W` (SIGUSR2 to the master: the new worker is handed the sockets), without a
 * server-state-file or with one written just before (the usual reload script) or with one
 * the agent keeps (`--server-state-file`, no script: the reload is a bare SIGUSR2), and the
 * agent's slots declared with an IP literal or with a name (`init-addr last,<placeholder>`).
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentArgs, TestAgent } from '../test/support/agent.ts';
import { podKeys, podsAt, SERVICE, TestBind } from '../test/support/bind.ts';
import { httpGet } from '../test/support/http-client.ts';
import { TestHaproxy } from '../test/support/haproxy.ts';
import { TestPods } from '../test/support/pods.ts';
import { freePort } from '../test/support/procs.ts';
import { envInt, joined, sleep, until, INTERVAL_MS, POD_NET } from './common.ts';

const PODS = 4;
const SLOTS = 6;
/** Load before the reload (its failures are counted apart: there should be none) and after it (a stall of 5 s was seen). */
const BEFORE_MS = 2_000;
const AFTER_MS = 7_000;
const REQUEST_TIMEOUT_MS = 10_000;

export type ReloadVariant = Readonly<{
  mode: 'standalone' | 'master-worker';
  stateFile: boolean;
  /** How the agent's slots are declared; the native side's follow the SRV record. */
  slots: 'ip' | 'named';
  /** The agent holds HAProxy's master CLI (`-S`, --master-socket). */
  master?: boolean;
  /**
   * No reload script: the agent writes the agent side's server-state-file
   * (--server-state-file), which that HAProxy loads; the native side has none to load.
   */
  agentWritesState?: boolean;
}>;

export const RELOAD_VARIANTS: readonly ReloadVariant[] = [
  { mode: 'standalone', stateFile: false, slots: 'ip' },
  { mode: 'standalone', stateFile: true, slots: 'ip' },
  { mode: 'standalone', stateFile: true, slots: 'named' },
  { mode: 'master-worker', stateFile: false, slots: 'ip' },
  { mode: 'master-worker', stateFile: false, slots: 'ip', master: true },
  { mode: 'master-worker', stateFile: true, slots: 'ip' },
  { mode: 'master-worker', stateFile: true, slots: 'named' },
  { mode: 'master-worker', stateFile: false, slots: 'named', agentWritesState: true },
];

/** One side's requests in a run: failed ones before the reload, and from the reload to the end. */
export type SideCount = { requests: number; failedBefore: number; failedAfter: number; slowest: number };

export type ReloadSample = Readonly<{
  variant: ReloadVariant;
  clients: number;
  agent: SideCount;
  native: SideCount;
  /** From the reload's start to the agent's line saying it pushed the new process (null: none came). */
  agentFillMs: number | null;
}>;

export const variantLabel = (v: ReloadVariant): string =>
  `${v.mode === 'standalone' ? '-sf' : v.master === true ? '-W (SIGUSR2), agent with --master-socket' : '-W (SIGUSR2)'}, ${stateLabel(v)}, agent's slots ${v.slots === 'ip' ? '127.0.0.1:9' : 'slot.invalid:9 init-addr last,127.0.0.1'}`;

const stateLabel = (v: ReloadVariant): string => {
  if (v.agentWritesState === true) return 'no reload script, the agent writes the server-state-file (--server-state-file; native: none)';
  return v.stateFile ? 'server-state-file saved before' : 'no server-state-file';
};

/** Every variant, `BENCH_RELOAD_REPEATS` times (2 by default), with `BENCH_RELOAD_CLIENTS` clients a side (20). */
export async function reloadPart(): Promise<ReloadSample[]> {
  const repeats = envInt('BENCH_RELOAD_REPEATS', 2, 1, 100);
  const clients = envInt('BENCH_RELOAD_CLIENTS', 20, 1, 1_000);
  const out: ReloadSample[] = [];
  for (let r = 0; r < repeats; r++) {
    for (const variant of RELOAD_VARIANTS) {
      const s = await reloadRun(variant, clients);
      out.push(s);
      const side = (c: SideCount): string => `${String(c.failedAfter)} of ${String(c.requests)} failed`;
      process.stdout.write(
        `  ${variantLabel(variant)}: agent ${side(s.agent)}, native ${side(s.native)}; agent pushed ${s.agentFillMs === null ? 'never' : `${String(s.agentFillMs)} ms`} after the reload began\n`,
      );
    }
  }
  return out;
}

async function reloadRun(v: ReloadVariant, clients: number): Promise<ReloadSample> {
  const bind = new TestBind();
  await bind.start();
  // Pods on a port of their own: other runs on this machine may serve 8080 on the same addresses.
  const pods = podsAt(0, PODS, await freePort());
  const servers = new TestPods();
  const stops: (() => Promise<void>)[] = [() => bind.stop(), () => servers.stop()];
  try {
    await servers.start(pods);
    await bind.setPods(pods);
    const agentSide = new TestHaproxy({
      frontendPort: await freePort(),
      mode: v.mode,
      ...(v.master === true ? { masterSocket: join(mkdtempSync(join(tmpdir(), 'hda-master-')), 'master.sock') } : {}),
      stateFile: v.stateFile || v.agentWritesState === true,
      serverLines: [
        `server-template srv ${String(SLOTS)} ${v.slots === 'ip' ? '127.0.0.1:9' : 'slot.invalid:9 init-addr last,127.0.0.1'} disabled`,
      ],
    });
    const native = new TestHaproxy({
      frontendPort: await freePort(),
      mode: v.mode,
      stateFile: v.stateFile,
      serverLines: [`server-template srv ${String(SLOTS)} ${SERVICE} resolvers bind init-addr ${v.stateFile ? 'last,none' : 'none'}`],
    });
    const resolvers = [
      'resolvers bind',
      `    nameserver ns1 tcp@127.0.0.1:${String(bind.port)}`,
      '    accepted_payload_size 65535',
      `    timeout resolve ${String(INTERVAL_MS)}ms`,
      `    hold valid ${String(INTERVAL_MS)}ms`,
    ];
    writeFileSync(native.cfg, native.config().replace('defaults\n', `${resolvers.join('\n')}\n\ndefaults\n`));
    stops.push(
      () => agentSide.stop(),
      () => native.stop(),
    );
    await agentSide.start();
    await native.start();
    const agent = new TestAgent([
      ...agentArgs(agentSide.socket, `127.0.0.1:${String(bind.port)}`, `be_app=${SERVICE}`),
      ...POD_NET,
      '--interval',
      `${String(INTERVAL_MS)}ms`,
      '--log-level',
      'warn',
      ...(agentSide.options.masterSocket === undefined ? [] : ['--master-socket', agentSide.options.masterSocket]),
      ...(v.agentWritesState === true ? ['--server-state-file', agentSide.stateFile] : []),
    ]);
    stops.push(() => agent.stop());
    const want = joined(podKeys(pods));
    const written = (): boolean => v.agentWritesState !== true || existsSync(agentSide.stateFile);
    await until(async () => joined(await agentSide.serving()) === want && joined(await native.serving()) === want && written(), 30_000);
    const load = { on: true, reloadAt: Infinity };
    const counts = { agent: newCount(), native: newCount() };
    const runners = [
      ...Array.from({ length: clients }, () => client(agentSide.options.frontendPort, counts.agent, load)),
      ...Array.from({ length: clients }, () => client(native.options.frontendPort, counts.native, load)),
    ];
    await sleep(BEFORE_MS);
    if (v.stateFile) await Promise.all([agentSide.saveState(), native.saveState()]);
    const began = Date.now();
    load.reloadAt = performance.now();
    await Promise.all([agentSide.reload(), native.reload()]);
    await sleep(AFTER_MS);
    load.on = false;
    await Promise.all(runners);
    const pushed = agent
      .logs()
      .find((l) => l.msg === 'HAProxy reloaded or restarted: pushing every managed server again' && Number(l['time']) >= began);
    return { variant: v, clients, ...counts, agentFillMs: pushed === undefined ? null : Number(pushed['time']) - began };
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

const newCount = (): SideCount => ({ requests: 0, failedBefore: 0, failedAfter: 0, slowest: 0 });

/** One client: a first request for its cookie, then requests with it, one after another, until the load stops. */
async function client(port: number, count: SideCount, load: { on: boolean; reloadAt: number }): Promise<void> {
  let cookie: string | null = null;
  while (load.on) {
    const t0 = performance.now();
    let ok: boolean;
    try {
      const r = await httpGet(port, cookie, REQUEST_TIMEOUT_MS);
      ok = r.status === 200;
      cookie ??= r.cookie;
    } catch {
      ok = false;
    }
    const t1 = performance.now();
    count.requests++;
    count.slowest = Math.max(count.slowest, t1 - t0);
    // A request that ended after the reload began counts for it, even if it was sent before.
    if (!ok) {
      if (t1 >= load.reloadAt) count.failedAfter++;
      else count.failedBefore++;
      await sleep(10); // a failure comes back at once: no busy loop of refusals
    }
  }
}

/** results.md's section. */
export function reloadSection(samples: readonly ReloadSample[], runLabel: string): string[] {
  const rows = RELOAD_VARIANTS.map((v) => {
    const mine = samples.filter((s) => s.variant === v);
    const list = (f: (s: ReloadSample) => number | null): string => mine.map((s) => (f(s) === null ? '-' : String(f(s)))).join(', ');
    return `| ${variantLabel(v)} | ${list((s) => s.agent.failedAfter)} | ${list((s) => s.native.failedAfter)} | ${list((s) => s.agentFillMs)} | ${list((s) => s.agent.requests + s.native.requests)} |`;
  });
  const clients = samples[0]?.clients ?? 0;
  return [
    '## Reload under sticky load',
    '',
    runLabel,
    `${String(clients)} clients a side, each keeping its cookie, send requests one after another (each on a new connection, ${String(REQUEST_TIMEOUT_MS / 1000)} s timeout) through each HAProxy to the same ${String(PODS)} pods (${String(SLOTS)} slots); ${String(BEFORE_MS / 1000)} s in, both HAProxies reload at the same moment, and the load goes on ${String(AFTER_MS / 1000)} s. A failed request is an answer other than 200 or no answer, counted from the reload on. Native: \`resolvers\` as in the other parts, its slots \`init-addr none\` (\`last,none\` with the state file). Agent: \`--interval ${String(INTERVAL_MS)}ms\`, no \`/readyz\` probe. Each figure is one run; runs are listed in order.`,
    '',
    '| reload | agent: failed requests | native: failed requests | agent pushed the new process after (ms) | requests in the run (both sides) |',
    '|---|---|---|---|---|',
    ...rows,
  ];
}
