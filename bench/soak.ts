/**
 * `npm run soak`: not a test, and not run by `npm test` or CI. For --minutes (default 20)
 * sticky clients go through HAProxy (Debian's) to pods while the phases of
 * bench/soak-phases.ts cycle: scale events, DNS outages (BIND 9 stopped), agent restarts
 * and HAProxy reloads. Prints a summary and writes it to bench/results/soak.md. Exit 0
 * whatever the figures; 1 when the soak itself broke, 2 on a usage error, 130 when stopped
 * by SIGINT or SIGTERM (its processes and temporary files are removed either way).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { agentArgs } from '../test/support/agent.ts';
import { podKeys, podsAt, SERVICE, TestBind } from '../test/support/bind.ts';
import { TestHaproxy } from '../test/support/haproxy.ts';
import { freePort } from '../test/support/procs.ts';
import { tempRoot } from '../test/support/temp-root.ts';
import { POD_NET } from './common.ts';
import { RESULTS } from './results.ts';
import { AgentLives } from './soak-agent.ts';
import { Clients, PhaseStats } from './soak-clients.ts';
import { readOptions, RELOAD_MODE, SoakUsageError, USAGE, type SoakOptions } from './soak-options.ts';
import { cycle, pause, type Parts, type PhaseName } from './soak-phases.ts';
import { PodsThread } from './soak-pods.ts';
import { soakReport } from './soak-report.ts';
import { Service } from './soak-service.ts';

/**
 * The slots, declared once, as docs/haproxy.md says to declare them for a reload: with a
 * name, so a server-state-file reload gives each slot back its address (an IP-literal slot
 * comes back on its placeholder address).
 */
const SLOTS = ['server-template srv 20 slot.invalid:9 init-addr last,127.0.0.1 check disabled'];
const DRAIN = '3s';
/** A pod's preStop sleep: longer than the drain, so a drained pod is in maintenance before it stops. */
const STOP_AFTER_MS = 5_000;
const FIRST_PODS = 4;

function versions(): { haproxy: string; bind: string; node: string } {
  const first = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' }).split('\n')[0]?.trim() ?? '';
  return {
    haproxy: first('haproxy', ['-v']).replace(/^HAProxy version (\S+).*/, 'HAProxy $1'),
    bind: first('named', ['-v']).replace(/^(BIND \S+).*/, '$1'),
    node: process.version,
  };
}

/** Runs the soak; `broke` is what ended it, when the soak itself failed. */
async function soak(o: SoakOptions, stopped: AbortSignal): Promise<{ report: string; broke: unknown }> {
  const soakStart = performance.now();
  const phases = new Map<PhaseName, PhaseStats>();
  const statsOf = (name: PhaseName): PhaseStats => {
    const s = phases.get(name) ?? new PhaseStats();
    phases.set(name, s);
    return s;
  };
  let current = statsOf('steady');
  let cycles = 0;
  let cutShort: string | null = null;
  let broke: unknown = null;
  const agentFlags: string[] = [];
  const shownFlags: string[] = [];
  const v = versions();
  const loadStart = loadavg()[0] ?? NaN;

  const bind = new TestBind();
  const pods = new PodsThread();
  let haproxy: TestHaproxy | null = null;
  let lives: AgentLives | null = null;
  let clients: Clients | null = null;
  let service: Service | null = null;
  try {
    await bind.start();
    service = new Service(bind, pods, podsAt(200, 40, await freePort()), STOP_AFTER_MS);
    await service.scaleTo(service.fresh(FIRST_PODS));
    haproxy = new TestHaproxy({ frontendPort: await freePort(), serverLines: SLOTS, stateFile: true, mode: RELOAD_MODE[o.reload] });
    await haproxy.start();
    const listen = `127.0.0.1:${String(await freePort())}`;
    agentFlags.push(
      ...agentArgs(haproxy.socket, `127.0.0.1:${String(bind.port)}`, `be_app=${SERVICE}`),
      ...POD_NET,
      '--listen',
      listen,
      '--state-file',
      join(haproxy.dir, 'agent.state'),
      '--drain',
      DRAIN,
      '--log-level',
      'warn',
    );
    // As the results show them: without this run's temporary folder and ports.
    const nameserver = `127.0.0.1:${String(bind.port)}`;
    const dir = haproxy.dir;
    shownFlags.push(
      ...agentFlags.map((f) =>
        f.replace(dir, '<haproxy dir>').replace(nameserver, '127.0.0.1:<BIND port>').replace(listen, '127.0.0.1:<port>'),
      ),
    );
    lives = new AgentLives(agentFlags, listen, soakStart);
    await lives.begin();
    await haproxy.waitServing(podKeys(service.inDns), { timeoutMs: 30_000 });
    const svc = service;
    clients = new Clients(
      { port: haproxy.options.frontendPort, sticky: o.sticky, cookieless: o.cookieless, pauseMs: o.pauseMs },
      { phase: () => current, leftDnsAt: (pod) => svc.leftDnsAt(pod) },
    );
    clients.start();

    const parts: Parts = { bind, haproxy, service, lives, options: o, stopped };
    const deadline = soakStart + o.minutes * 60_000;
    const over = (): boolean => stopped.aborted || performance.now() >= deadline;
    for (let c = 0; !over(); c++) {
      cycles = c + 1; // begun
      for (const phase of cycle(c, o)) {
        if (over()) break;
        current = statsOf(phase.name);
        current.begin();
        const t0 = performance.now();
        process.stdout.write(
          `${((t0 - soakStart) / 1000).toFixed(0).padStart(5)} s  cycle ${String(c + 1)}: ${phase.name} (${String(service.inDns.length)} pods in DNS)\n`,
        );
        await phase.act(parts);
        await pause(t0 + phase.ms - performance.now(), stopped);
        current.runs++;
        current.ms += performance.now() - t0;
        if (service.failure !== null) throw service.failure;
        if (!(await lives.check())) {
          process.stdout.write(`the agent: ${lives.lives.at(-1)?.endedBy ?? 'ended'}\n`);
          await lives.begin();
        }
        await haproxy.pid(); // throws when HAProxy no longer answers: the soak broke
      }
    }
    if (stopped.aborted) cutShort = 'stopped by a signal';
  } catch (err) {
    cutShort = stopped.aborted ? 'stopped by a signal' : `the soak broke: ${err instanceof Error ? err.message : String(err)}`;
    if (!stopped.aborted) broke = err;
  } finally {
    // Every step is taken whatever the one before did; the first that fails breaks the soak.
    const step = (p: Promise<void> | undefined): Promise<void> | undefined =>
      p?.catch((err: unknown) => {
        broke ??= err;
      });
    await step(clients?.stop());
    await step(lives?.end('SIGTERM', stopped.aborted ? 'the soak stopped: ' : 'the end of the soak: '));
    await step(haproxy?.stop());
    if (!stopped.aborted) await step(service?.settle());
    await step(pods.close());
    await step(bind.stop());
  }
  const report = soakReport({
    options: o,
    versions: v,
    machine: { loadStart, loadEnd: loadavg()[0] ?? NaN, cores: availableParallelism() },
    slots: SLOTS,
    agentFlags: shownFlags,
    drain: DRAIN,
    stopAfterMs: STOP_AFTER_MS,
    elapsedMs: performance.now() - soakStart,
    cycles,
    phases,
    lives: lives?.lives ?? [],
    cutShort,
  });
  return { report, broke };
}

async function main(): Promise<number> {
  let options: SoakOptions | null;
  try {
    options = readOptions(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof SoakUsageError)) throw err;
    process.stderr.write(`soak: ${err.message}\n`);
    return 2;
  }
  if (options === null) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  // Every folder of HAProxy, BIND and the agent goes under one temporary folder, removed at exit.
  process.on('exit', tempRoot('hda-soak-'));
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      if (!stop.signal.aborted) process.stderr.write(`\n${signal}: stopping the soak and what it started\n`);
      stop.abort();
    });
  const { report, broke } = await soak(options, stop.signal);
  process.stdout.write(`\n${report}`);
  if (broke !== null) {
    process.stderr.write(`soak failed: ${broke instanceof Error ? (broke.stack ?? broke.message) : JSON.stringify(broke)}\n`);
    return 1;
  }
  if (stop.signal.aborted) return 130;
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(new URL('soak.md', RESULTS), report);
  process.stdout.write('\nWritten: bench/results/soak.md\n');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
