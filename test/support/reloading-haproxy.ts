import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestHaproxy, type HaproxyOptions } from './haproxy.ts';
import { startProc, waitFor, type Proc } from './procs.ts';

/**
 * How HAProxy is reloaded:
 * - `sf`: a new process started with `-sf <old pid>` (the reload of an init script or a
 *   systemd unit without -W); the old one stops listening once the new one has bound, and
 *   ends when its connections have;
 * - `sf-x`: the same with `-x <socket>`, the new process taking the old one's listening
 *   sockets over a stats socket with `expose-fd listeners` (a seamless reload);
 * - `master`: SIGUSR2 to a `-W` master (the official image's way).
 */
export const RELOAD_WAYS = ['sf', 'sf-x', 'master'] as const;
export type ReloadWay = (typeof RELOAD_WAYS)[number];

/**
 * TestHaproxy reloaded the usual way: `show servers state` saved to the
 * `server-state-file` (`load-server-state-from-file global`), then the reload `way` says.
 * The slots are what `serverLines` declares: what a state file gives back depends on it.
 */
export class ReloadingHaproxy extends TestHaproxy {
  readonly way: ReloadWay;
  readonly stateFile: string;
  /** Processes told to finish by -sf that have not exited yet. */
  readonly finishing: Proc[];

  constructor(options: HaproxyOptions, way: ReloadWay) {
    // The config names these files, so their folder exists before TestHaproxy writes it.
    const dir = mkdtempSync(join(tmpdir(), 'hda-reload-'));
    super({
      ...options,
      globalLines: [
        ...(options.globalLines ?? []),
        `server-state-file ${join(dir, 'server-state')}`,
        ...(way === 'sf-x' ? [`stats socket ${join(dir, 'fds.sock')} level admin expose-fd listeners`] : []),
      ],
      backendLines: [...(options.backendLines ?? []), 'load-server-state-from-file global'],
    });
    this.way = way;
    this.stateFile = join(dir, 'server-state');
    this.finishing = [];
  }

  /** The socket `-x` takes the listening sockets from (sf-x only). */
  get fdSocket(): string {
    return join(this.stateFile, '..', 'fds.sock');
  }

  override async start(): Promise<void> {
    if (this.way === 'master') return super.start();
    this.proc = startProc('haproxy', ['-db', '-f', this.cfg]);
    await this.#answering(0);
  }

  /** Saves the servers' state, reloads, and resolves once the new process answers on the socket. */
  override async reload(): Promise<void> {
    const before = await this.pid();
    writeFileSync(this.stateFile, await this.command('show servers state'));
    if (this.way === 'master') {
      // A master loses a SIGUSR2 that comes in the first half second or so after it started
      // (seen on 2.6): sent again while the worker stays the same.
      for (let i = 0; i < 5 && (await this.pid()) === before; i++) {
        this.proc?.child.kill('SIGUSR2');
        await waitFor('HAProxy reload', async () => (await this.pid()) !== before, 2_000).catch(() => undefined);
      }
    } else {
      if (this.proc !== null) this.finishing.push(this.proc);
      const seamless = this.way === 'sf-x' ? ['-x', this.fdSocket] : [];
      this.proc = startProc('haproxy', ['-db', '-f', this.cfg, ...seamless, '-sf', String(before)]);
    }
    await this.#answering(before);
    this.#prune();
  }

  override async stop(): Promise<void> {
    if (this.way === 'master') return super.stop();
    const all = [...this.finishing, ...(this.proc === null ? [] : [this.proc])];
    this.finishing.length = 0;
    this.proc = null;
    await Promise.all(all.map((p) => p.stop()));
  }

  async #answering(notPid: number): Promise<void> {
    const proc = this.proc;
    await waitFor(
      () => `HAProxy on ${this.socket} (output: ${proc?.output().slice(-1000) ?? ''})`,
      async () => {
        const pid = await this.pid();
        return pid !== 0 && pid !== notPid;
      },
    );
  }

  #prune(): void {
    for (let i = this.finishing.length - 1; i >= 0; i--) {
      const c = this.finishing[i]?.child;
      if (c !== undefined && (c.exitCode !== null || c.signalCode !== null)) this.finishing.splice(i, 1);
    }
  }
}
