import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startProc, waitFor, type Proc } from '../support/procs.ts';

export type Alert = Readonly<{ labels: Record<string, string>; annotations: Record<string, string>; state: 'pending' | 'firing' }>;
export type Sample = Readonly<{ metric: Record<string, string>; value: [number, string] }>;

/**
 * Debian's Prometheus on loopback, scraping one job every second and evaluating the given
 * rule files every second, its data in a temporary folder that stop() removes.
 */
export class TestPrometheus {
  readonly dir: string;
  port = 0;
  proc: Proc | null = null;

  constructor(o: Readonly<{ job: string; targets: readonly string[]; ruleFiles: readonly string[] }>) {
    this.dir = mkdtempSync(join(tmpdir(), 'hda-prometheus-'));
    writeFileSync(
      join(this.dir, 'prometheus.yml'),
      JSON.stringify({
        global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
        rule_files: o.ruleFiles,
        scrape_configs: [{ job_name: o.job, static_configs: [{ targets: o.targets }] }],
      }),
    );
  }

  async start(): Promise<void> {
    if ((spawnSync('prometheus', ['--version']).error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
      throw new Error("prometheus is not on PATH: install Debian's prometheus package (apt-get install prometheus; scripts/dev does it)");
    this.port = await freePort();
    const proc = startProc('prometheus', [
      `--config.file=${join(this.dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(this.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${String(this.port)}`,
      '--log.level=warn',
    ]);
    this.proc = proc;
    await waitFor(
      () => `Prometheus on port ${String(this.port)} (output: ${proc.output().slice(-1500)})`,
      async () => (await fetch(this.url('/-/ready'))).ok,
      20_000,
    );
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
    this.proc = null;
    rmSync(this.dir, { recursive: true, force: true });
  }

  url(path: string): string {
    return `http://127.0.0.1:${String(this.port)}${path}`;
  }

  /** The alerts pending or firing (/api/v1/alerts). */
  async alerts(): Promise<Alert[]> {
    const body = (await (await fetch(this.url('/api/v1/alerts'))).json()) as { data: { alerts: Alert[] } };
    return body.data.alerts;
  }

  /** An instant query: its samples, or Prometheus's error (a query it cannot parse, say). */
  async query(expr: string): Promise<{ status: string; error?: string; samples: Sample[] }> {
    const r = await fetch(this.url(`/api/v1/query?query=${encodeURIComponent(expr)}`));
    const body = (await r.json()) as { status: string; error?: string; data?: { result: Sample[] } };
    return { status: body.status, ...(body.error === undefined ? {} : { error: body.error }), samples: body.data?.result ?? [] };
  }
}
