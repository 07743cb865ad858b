import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseServersState } from '../../src/haproxy/parse.ts';
import { exchange } from '../../src/haproxy/socket.ts';
import { startProc, waitFor, type Proc } from './procs.ts';

export type HaproxyOptions = Readonly<{
  frontendPort: number;
  slots?: number;
  /** Extra lines in the backend section. */
  backendLines?: readonly string[];
  /** Extra lines in the global section. */
  globalLines?: readonly string[];
  /** Replace the server-template line(s). */
  serverLines?: readonly string[];
  cookieKey?: string;
  /** Also serve the master CLI (`-S`) on this path. */
  masterSocket?: string;
  /** Load `server-state-file` (in dir) on start and reload: what `saveState` wrote there, as the usual reload script does. */
  stateFile?: boolean;
  /**
   * How HAProxy runs and reloads: `master-worker` (`-W`, the default, as the official image
   * runs it; a reload is SIGUSR2 and hands the listening sockets to the new worker),
   * `standalone` (a reload starts a new process with `-sf`, which binds its sockets anew), or
   * `seamless` (`-sf` with `-x`: the new process takes the old one's listening sockets, the
   * stats socket among them, over a socket with `expose-fd listeners`).
   */
  mode?: HaproxyMode;
}>;

export const HAPROXY_MODES = ['master-worker', 'standalone', 'seamless'] as const;
export type HaproxyMode = (typeof HAPROXY_MODES)[number];

/**
 * Debian's HAProxy in master-worker mode in the foreground (as the official image runs
 * it), or standalone, with a generated config: one backend `be_app` of server-template
 * slots declared as IP literals in maintenance, dynamic cookies, and a frontend on 127.0.0.1.
 */
export class TestHaproxy {
  readonly dir: string;
  readonly socket: string;
  readonly cfg: string;
  /** Where `saveState` writes, and with `stateFile` HAProxy reads at start. */
  readonly stateFile: string;
  /** The socket a `seamless` reload takes the listening sockets from (`-x`). */
  readonly fdSocket: string;
  readonly options: HaproxyOptions;
  proc: Proc | null = null;
  /** Processes a `-sf` reload told to finish: stopped with the current one. */
  readonly #former: Proc[] = [];

  constructor(options: HaproxyOptions) {
    this.options = options;
    this.dir = mkdtempSync(join(tmpdir(), 'hda-haproxy-'));
    this.socket = join(this.dir, 'admin.sock');
    this.cfg = join(this.dir, 'haproxy.cfg');
    this.stateFile = join(this.dir, 'server-state');
    this.fdSocket = join(this.dir, 'fds.sock');
    writeFileSync(this.cfg, this.config());
  }

  config(): string {
    const o = this.options;
    return [
      'global',
      `    stats socket ${this.socket} mode 660 level admin`,
      '    stats timeout 2m',
      ...(o.globalLines ?? []).map((l) => `    ${l}`),
      ...(o.mode === 'seamless' ? [`    stats socket ${this.fdSocket} level admin expose-fd listeners`] : []),
      ...(o.stateFile === true ? [`    server-state-file ${this.stateFile}`] : []),
      'defaults',
      ...(o.stateFile === true ? ['    load-server-state-from-file global'] : []),
      '    mode http',
      '    timeout connect 1s',
      '    timeout client 10s',
      '    timeout server 10s',
      'frontend fe',
      `    bind 127.0.0.1:${String(o.frontendPort)}`,
      '    default_backend be_app',
      'backend be_app',
      '    balance roundrobin',
      '    option redispatch',
      `    dynamic-cookie-key ${o.cookieKey ?? 'test-key'}`,
      '    cookie SRVID insert dynamic',
      '    default-server inter 300ms fall 2 rise 1',
      ...(o.backendLines ?? []).map((l) => `    ${l}`),
      ...(o.serverLines ?? [`server-template srv ${String(o.slots ?? 10)} 127.0.0.1:9 check disabled`]).map((l) => `    ${l}`),
      '',
    ].join('\n');
  }

  async start(): Promise<void> {
    this.proc = this.#spawn([]);
    await waitFor(
      `HAProxy socket ${this.socket} (output: ${this.proc.output()})`,
      async () => existsSync(this.socket) && (await this.command('show info')).includes('Pid:'),
    );
  }

  #spawn(extra: readonly string[]): Proc {
    if (this.options.mode !== undefined && this.options.mode !== 'master-worker')
      return startProc('haproxy', ['-db', '-f', this.cfg, ...extra]);
    const master = this.options.masterSocket === undefined ? [] : ['-S', this.options.masterSocket];
    return startProc('haproxy', ['-W', '-db', ...master, '-f', this.cfg, ...extra]);
  }

  /**
   * A reload: SIGUSR2 to the master (the new worker takes the listening sockets, the stats
   * socket's file stays as it is), or a new process started with `-sf <pid>` (standalone: it
   * binds the stats socket anew; seamless: it takes the sockets with `-x`) that tells the old
   * one to finish. The new process reads the configuration again; runtime changes are lost
   * unless a server-state-file brings them back. Resolves once the socket answers with the
   * new process.
   */
  async reload(): Promise<void> {
    const before = await this.pid();
    const mode = this.options.mode ?? 'master-worker';
    if (mode === 'master-worker') {
      // A master loses a SIGUSR2 that comes in the first half second or so after it started
      // (seen on 2.6): sent again while the worker stays the same.
      for (let i = 0; i < 5 && (await this.pid()) === before; i++) {
        this.proc?.child.kill('SIGUSR2');
        await waitFor('HAProxy reload', async () => (await this.pid()) !== before, 2_000).catch(() => undefined);
      }
    } else {
      for (let i = this.#former.length - 1; i >= 0; i--) {
        const c = this.#former[i]?.child;
        if (c !== undefined && (c.exitCode !== null || c.signalCode !== null)) this.#former.splice(i, 1);
      }
      if (this.proc !== null) this.#former.push(this.proc);
      this.proc = this.#spawn([...(mode === 'seamless' ? ['-x', this.fdSocket] : []), '-sf', String(before)]);
    }
    await waitFor(`HAProxy reload (output: ${this.proc?.output() ?? ''})`, async () => {
      const pid = await this.pid().catch(() => 0);
      return pid !== 0 && pid !== before;
    });
  }

  /** What the usual reload script does first: `show servers state` written where `server-state-file` says. */
  async saveState(): Promise<void> {
    writeFileSync(this.stateFile, await this.command('show servers state'));
  }

  /** Stops the master and makes sure its worker is gone too (it may finish its grace period); standalone, every process. */
  async stop(): Promise<void> {
    const worker = await this.pid().catch(() => 0);
    for (const p of this.#former.splice(0)) await p.stop();
    await this.proc?.stop();
    this.proc = null;
    const alive = (): boolean => {
      try {
        process.kill(worker, 0);
        return true;
      } catch {
        return false;
      }
    };
    if (worker > 0 && alive()) {
      await waitFor('HAProxy worker exit', () => !alive(), 2_000).catch(() => process.kill(worker, 'SIGKILL'));
      await waitFor('HAProxy worker exit', () => !alive(), 2_000);
    }
  }

  async pid(): Promise<number> {
    return Number(/Pid: (\d+)/.exec(await this.command('show info'))?.[1] ?? 0);
  }

  command(line: string): Promise<string> {
    return exchange({ kind: 'unix', path: this.socket }, line, 2_000);
  }

  /** The servers of a backend, read with the agent's own parser: name -> address, port, admin bits, weight. */
  async servers(backend = 'be_app'): Promise<Map<string, { address: string; port: number; admin: number; weight: number }>> {
    const rows = parseServersState(await this.command(`show servers state ${backend}`));
    return new Map(rows.map((r) => [r.name, { address: r.address, port: r.port, admin: r.adminBits, weight: r.weight }]));
  }

  /** address:port of every server taking traffic (not in maintenance, not draining), sorted. */
  async serving(backend = 'be_app'): Promise<string[]> {
    const out: string[] = [];
    for (const s of (await this.servers(backend)).values()) if ((s.admin & 0x3b) === 0) out.push(`${s.address}:${String(s.port)}`);
    return out.sort();
  }

  /** Waits until the backend serves exactly `keys` (sorted address:port). */
  async waitServing(keys: readonly string[], o: Readonly<{ backend?: string; timeoutMs?: number }> = {}): Promise<void> {
    const want = [...keys].sort().join(' ');
    let last = '';
    await waitFor(
      () => `${o.backend ?? 'be_app'} to serve ${want} (serving: ${last})`,
      async () => (last = (await this.serving(o.backend)).join(' ')) === want,
      o.timeoutMs ?? 10_000,
    );
  }
}
