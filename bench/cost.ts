/**
 * What the agent costs apart from DNS: how long applying a plan to HAProxy takes, and what
 * a pass costs at rest with 1000 pods (CPU, memory, questions, commands).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { command } from '../src/core/commands.ts';
import { emptyMemory, planBackend, type SlotMemory } from '../src/core/plan.ts';
import { changeSteps } from '../src/core/steps.ts';
import type { Endpoint, Slot } from '../src/core/types.ts';
import { HaproxyRuntime } from '../src/haproxy/runtime.ts';
import { exchange } from '../src/haproxy/socket.ts';
import { TestAgent } from '../test/support/agent.ts';
import { podKeys, podsAt, SERVICE, TestBind } from '../test/support/bind.ts';
import { TestHaproxy } from '../test/support/haproxy.ts';
import { freePort } from '../test/support/procs.ts';
import { atRestArgs, joined, sleep, until, WEIGHT } from './common.ts';

/** From the DNS answer in hand to HAProxy acknowledging every command: read, plan, render, send. */
export async function applyLatency(n: number): Promise<number[]> {
  const haproxy = new TestHaproxy({
    frontendPort: await freePort(),
    serverLines: [`server-template srv ${String(n)} 127.0.0.1:9 disabled`],
  });
  await haproxy.start();
  const runtime = new HaproxyRuntime({ kind: 'unix', path: haproxy.socket }, { timeoutMs: 10_000, retries: 0 });
  const sets = [0, 1].map((k) =>
    podsAt(k * n, n).map((p): Endpoint => ({ target: p.address, address: p.address, port: p.port, weight: 10, priority: 0, ttl: 5 })),
  );
  const times: number[] = [];
  let memory: SlotMemory = emptyMemory;
  try {
    for (let i = 0; i < 8; i++) {
      const endpoints = sets[i % 2] ?? [];
      const t0 = performance.now();
      const snap = await runtime.observe(['be_app']);
      const view = snap.backends.get('be_app');
      const slots: Slot[] = (view?.servers ?? []).map((s) => ({ ...s, backup: false, added: false }));
      const plan = planBackend({ slots, endpoints, now: Date.now(), drainMs: 0, weights: 'srv', memory, resync: false });
      memory = plan.memory;
      const results = await runtime.apply(plan.changes.flatMap((c) => changeSteps('be_app', c).map((step) => command('be_app', step))));
      const t = performance.now() - t0;
      if (results.some((r) => !r.verdict.ok)) throw new Error('a command was rejected');
      if (i >= 2) times.push(t); // the first two fill the slots from maintenance; then n servers change address each time
    }
  } finally {
    await haproxy.stop();
  }
  return times;
}

/**
 * 1000 pods, nothing changing: what a pass costs. First before the zone's serial has moved
 * (every pass asks the records), then once it has moved and settled (--serial-trust).
 */
export async function atRest(): Promise<Record<string, string>> {
  const size = 1000;
  const bind = new TestBind();
  await bind.start();
  const all = podsAt(0, size);
  const pods = all.slice(0, -1);
  await bind.setPods(pods, SERVICE, 0, WEIGHT);
  const haproxy = new TestHaproxy({ frontendPort: await freePort(), serverLines: [`server-template srv 1200 127.0.0.1:9 disabled`] });
  await haproxy.start();
  const port = await freePort();
  // As the image runs it (Dockerfile ENTRYPOINT), metrics served.
  const agent = new TestAgent(
    [...atRestArgs(haproxy.socket, bind.port, port), '--log-level', 'info'],
    // `node dist/main.js`, no Node flag: as the README runs it.
  );
  // One scrape at each end, outside the CPU window: a scrape has a cost of its own (measured apart below).
  const scrape = async (): Promise<string> => (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
  const sum = (text: string, name: string): number =>
    text
      .split('\n')
      .filter((l) => l.startsWith(name))
      .reduce((total, l) => total + Number(l.split(' ').at(-1)), 0);
  const pid = agent.proc.child.pid ?? 0;
  const cpuMs = (): number => {
    const f =
      readFileSync(`/proc/${String(pid)}/stat`, 'utf8')
        .split(') ')[1]
        ?.split(' ') ?? [];
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
  };
  const counts = (text: string): [number, number, number] => [
    sum(text, 'haproxy_dns_agent_passes_total{lane="dns"'),
    sum(text, 'haproxy_dns_agent_runtime_commands_total'),
    sum(text, 'haproxy_dns_agent_dns_queries_total'),
  ];
  /** CPU, commands and DNS questions per pass, and server changes, over `ms` at rest. */
  const window = async (ms: number): Promise<{ cpu: number; commands: number; questions: number; changes: number; passes: number }> => {
    const before = await scrape();
    const [cpu0, changes0] = [cpuMs(), agent.count('server change')];
    await sleep(ms);
    const [cpu1, changes1] = [cpuMs(), agent.count('server change')];
    const after = await scrape();
    const [p0, c0, q0] = counts(before);
    const [p1, c1, q1] = counts(after);
    const passes = p1 - p0;
    return {
      cpu: (cpu1 - cpu0) / passes,
      commands: (c1 - c0) / passes,
      questions: (q1 - q0) / passes,
      changes: changes1 - changes0,
      passes,
    };
  };
  try {
    await until(async () => joined(await haproxy.serving()) === joined(podKeys(pods)), 60_000);
    await sleep(1_000);
    const untrusted = await window(20_000);
    // One pod more: the serial moves while the agent watches; it stands for the records from its TTL (5 s) plus 2 s on.
    await bind.changePods(pods, all, WEIGHT);
    await until(async () => joined(await haproxy.serving()) === joined(podKeys(all)), 60_000);
    await sleep(10_000);
    const trusted = await window(60_000);
    const after = await scrape();
    const scrapeCpu = cpuMs();
    for (let i = 0; i < 10; i++) await scrape();
    const perScrape = (cpuMs() - scrapeCpu) / 10;
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'))?.[1] ?? '0';
    const heapUsed = sum(after, 'nodejs_heap_size_used_bytes');
    const read = await exchange({ kind: 'unix', path: haproxy.socket }, 'show info;show servers state be_app', 5_000);
    const info = await exchange({ kind: 'unix', path: haproxy.socket }, 'show info', 5_000);
    const dig = (tcp: boolean): string =>
      /MSG SIZE\s+rcvd: (\d+)/.exec(
        spawnSync('dig', ['+norec', tcp ? '+tcp' : '+ignore', '+bufsize=1232', '-p', String(bind.port), '@127.0.0.1', 'SRV', SERVICE], {
          encoding: 'utf8',
        }).stdout,
      )?.[1] ?? '?';
    return {
      'passes measured (one per interval: the DNS lane and the socket lane each run once)': `${String(trusted.passes)} with the serial trusted, ${String(untrusted.passes)} before`,
      'runtime-API commands per pass (goal 0)': Math.max(trusted.commands, untrusted.commands).toFixed(2),
      'server changes logged while at rest': String(trusted.changes + untrusted.changes),
      'CPU time per pass': `${trusted.cpu.toFixed(1)} ms, over 60 s with the serial trusted (--serial-trust 30s: the SRV asked every 30 s, the targets not while it says the same)`,
      'CPU time per pass before the serial has moved (or with --serial-trust 0)': `${untrusted.cpu.toFixed(1)} ms, over 20 s: the SRV every pass, the targets' A records as their 5 s TTL runs out`,
      'CPU time of a /metrics scrape (apart)': `${perScrape.toFixed(1)} ms`,
      'peak RSS (VmHWM)': `${(Number(hwm) / 1024).toFixed(1)} MiB, over the whole run from the first fill (an empty Node.js 24 process: about 42 MiB)`,
      'live JS heap': `${(heapUsed / 1024 / 1024).toFixed(1)} MiB`,
      'HAProxy read per pass': `show info only (${String(Buffer.byteLength(info))} bytes); the servers' state too (${String(Buffer.byteLength(read))} bytes) every 10 intervals, planned again only when it differs`,
      'DNS questions per pass': `${trusted.questions.toFixed(1)} with the serial trusted (the serial about 3 times, --watch 300ms, and the SRV every 30 s); ${untrusted.questions.toFixed(0)} before`,
      'DNS per pass before the serial is trusted': `SRV over TCP at once (${dig(true)} bytes; over UDP it is truncated to ${dig(false)} bytes): 1 TCP connection, plus the targets' A records as their TTLs run out, spread over time`,
    };
  } finally {
    await agent.stop();
    await haproxy.stop();
    await bind.stop();
  }
}
