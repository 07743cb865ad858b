/**
 * The agent's lives in the soak: the built CLI started as the image starts it (its V8
 * flags on Node's command line, NODE_ENV=production), probed as a kubelet and scraped as Prometheus would, and
 * measured at the start (once ready) and at the end of each life: resident memory and heap
 * used from its /metrics, open file descriptors from /proc. A life ends when the agent is
 * stopped (SIGTERM or SIGKILL), or when it ends without being told to.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { nodeFlags } from '../src/v8-flags.ts';
import { TestAgent } from '../test/support/agent.ts';

export type Sample = Readonly<{ rssBytes: number; heapUsedBytes: number; fds: number }>;

export type Life = {
  n: number;
  pid: number;
  /** When it started, from the start of the soak. */
  startedAtMs: number;
  /** From its start to its first /readyz 200 (null: not within the limit). */
  readyMs: number | null;
  start: Sample | null;
  end: Sample | null;
  /** The most it was resident (VmHWM), read at its end (or at its last probe, when it ended by itself). */
  peakRssBytes: number | null;
  endedBy: string;
  /** Probe and scrape answers other than 200 (or none) once it was ready. */
  probeFailures: number;
  /** Its log lines (at --log-level warn: warnings and errors). */
  logLines: number;
};

const READY_LIMIT_MS = 60_000;
const PROBE_EVERY_MS = 5_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function get(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  return { status: r.status, body: await r.text() };
}

/** A metric without labels from Prometheus' text format, or NaN. */
export function metricValue(text: string, name: string): number {
  for (const line of text.split('\n')) if (line.startsWith(`${name} `)) return Number(line.slice(name.length + 1).split(' ')[0]);
  return NaN;
}

export class AgentLives {
  readonly lives: Life[] = [];
  readonly #args: readonly string[];
  readonly #base: string;
  readonly #soakStart: number;
  #agent: TestAgent | null = null;
  #life: Life | null = null;
  #probing: Promise<void> | null = null;
  readonly #probes = { on: false };

  /** `listen` is the agent's --listen host:port, which `args` holds. */
  constructor(args: readonly string[], listen: string, soakStart: number) {
    this.#args = args;
    this.#base = `http://${listen}`;
    this.#soakStart = soakStart;
  }

  get pid(): number | null {
    return this.#agent?.proc.child.pid ?? null;
  }

  /** Starts a life and resolves once the agent says ready (or the limit passed), measured. */
  async begin(): Promise<Life> {
    const flags = nodeFlags(Number(process.versions.node.split('.')[0]));
    const startedAt = performance.now();
    const agent = new TestAgent(this.#args, { NODE_ENV: 'production' }, flags);
    this.#agent = agent;
    const life: Life = {
      n: this.lives.length + 1,
      pid: agent.proc.child.pid ?? 0,
      startedAtMs: startedAt - this.#soakStart,
      readyMs: null,
      start: null,
      end: null,
      peakRssBytes: null,
      endedBy: '',
      probeFailures: 0,
      logLines: 0,
    };
    this.#life = life;
    this.lives.push(life);
    while (this.alive() && performance.now() - startedAt < READY_LIMIT_MS) {
      if ((await get(`${this.#base}/readyz`).catch(() => null))?.status === 200) {
        life.readyMs = performance.now() - startedAt;
        break;
      }
      await sleep(100);
    }
    life.start = await this.#sample();
    this.#probes.on = true;
    this.#probing = this.#probeLoop(life);
    return life;
  }

  /** Ends the life: measured, then the signal, then its exit. `why` is said before the signal in the report. */
  async end(signal: 'SIGTERM' | 'SIGKILL', why = ''): Promise<void> {
    const agent = this.#agent;
    const life = this.#life;
    if (agent === null || life === null) return;
    await this.#stopProbes();
    if (!this.alive()) {
      this.#exited(why);
      return;
    }
    life.end = await this.#sample();
    life.peakRssBytes = peakRss(life.pid);
    // No await between this check and the listener: an exit is noticed either way.
    if (!this.alive()) {
      this.#exited(why);
      return;
    }
    const child = agent.proc.child;
    const exited = new Promise<void>((r) => {
      child.once('exit', () => {
        r();
      });
    });
    child.kill(signal);
    const late = { killed: false };
    const timer = setTimeout(() => {
      late.killed = true;
      child.kill('SIGKILL');
    }, 10_000);
    await exited;
    clearTimeout(timer);
    const how = late.killed ? 'not ended within 10 s, then SIGKILL' : (child.signalCode ?? `exit ${String(child.exitCode)}`);
    life.endedBy = `${why}${signal === 'SIGKILL' ? 'SIGKILL' : `SIGTERM (${how})`}`;
    life.logLines = agent.logs().length;
    this.#agent = null;
    this.#life = null;
  }

  alive(): boolean {
    const c = this.#agent?.proc.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** Whether the agent of this life still runs; if it ended without being told to, its life is recorded as such. */
  async check(): Promise<boolean> {
    if (this.#agent === null || this.alive()) return true;
    await this.#stopProbes();
    this.#exited('');
    return false;
  }

  /** The life of an agent that ended before it was told to; `why` says why it may have (nothing: not known). */
  #exited(why: string): void {
    const agent = this.#agent;
    const life = this.#life;
    if (agent === null || life === null) return;
    const c = agent.proc.child;
    const last = agent.proc.output().trim().split('\n').at(-1) ?? '';
    life.endedBy = `${why === '' ? 'ended, not by the soak' : `${why}ended`} (${c.signalCode ?? `code ${String(c.exitCode)}`})${last === '' ? '' : `: ${last.slice(0, 200)}`}`;
    life.logLines = agent.logs().length;
    this.#agent = null;
    this.#life = null;
  }

  async #stopProbes(): Promise<void> {
    this.#probes.on = false;
    await this.#probing;
    this.#probing = null;
  }

  /** /readyz every 5 s, /healthz every 10 s (a kubelet), /metrics every 30 s (the PodMonitor's interval). */
  async #probeLoop(life: Life): Promise<void> {
    const on = (): boolean => this.#probes.on;
    for (let tick = 1; on(); tick++) {
      const until = performance.now() + PROBE_EVERY_MS;
      while (on() && performance.now() < until) await sleep(100);
      if (!on() || !this.alive()) return;
      life.peakRssBytes = peakRss(life.pid) ?? life.peakRssBytes;
      const paths = ['/readyz', ...(tick % 2 === 0 ? ['/healthz'] : []), ...(tick % 6 === 0 ? ['/metrics'] : [])];
      for (const path of paths) if ((await get(`${this.#base}${path}`).catch(() => null))?.status !== 200) life.probeFailures++;
    }
  }

  async #sample(): Promise<Sample | null> {
    const pid = this.pid;
    if (pid === null || !this.alive()) return null;
    // Counted before the scrape, whose connection would be one of them.
    let fds = NaN;
    try {
      fds = readdirSync(`/proc/${String(pid)}/fd`).length;
    } catch {
      // Gone meanwhile.
    }
    const metrics = await get(`${this.#base}/metrics`).catch(() => null);
    if (metrics === null || metrics.status !== 200) return null;
    return {
      rssBytes: metricValue(metrics.body, 'process_resident_memory_bytes'),
      heapUsedBytes: metricValue(metrics.body, 'nodejs_heap_size_used_bytes'),
      fds,
    };
  }
}

/** VmHWM of a process (its peak resident size) in bytes, or null. */
function peakRss(pid: number): number | null {
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}
