import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Latencies, PhaseStats } from '../../bench/soak-clients.ts';
import { readOptions, type SoakOptions } from '../../bench/soak-options.ts';
import { cycle } from '../../bench/soak-phases.ts';

const SOAK = fileURLToPath(new URL('../../bench/soak.ts', import.meta.url));

/** `node bench/soak.ts` with a TMPDIR of its own; also says whether it left anything there. */
function runSoak(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string; leftFiles: string[] }> {
  const tmp = mkdtempSync(join(tmpdir(), 'hda-soak-test-'));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SOAK, ...args], {
      env: { ...process.env, TMPDIR: tmp, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => {
      const leftFiles = readdirSync(tmp);
      rmSync(tmp, { recursive: true, force: true });
      resolve({ code, stdout, stderr, leftFiles });
    });
  });
}

describe('npm run soak: its command line', () => {
  it.each([
    [['--minutes', '0'], {}, '--minutes 0: expected a number from 0.1 to 1440'],
    [[], { SOAK_MINUTES: 'ten' }, 'SOAK_MINUTES=ten: expected a number from 0.1 to 1440'],
    [['--reload', 'usr2'], {}, '--reload usr2: expected one of sf, sf-x, master'],
    [['--sticky', '2.5'], {}, '--sticky 2.5: expected a whole number from 1 to 500'],
    [['--churn', '--minutes'], {}, '--minutes needs a value'],
    [['--bogus'], {}, 'unknown flag --bogus'],
  ])('refuses %j %j in one line, exit 2, before it starts anything', async (args, env, message) => {
    const r = await runSoak(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringContaining(message)]);
    expect(r.stdout).toBe('');
    expect(r.leftFiles).toEqual([]);
  });

  it('prints its usage on --help and exits 0', async () => {
    const r = await runSoak(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--reload WAY');
  });

  it('takes SOAK_MINUTES, a flag winning over it, and the defaults', () => {
    expect(readOptions([], {})).toEqual({
      minutes: 20,
      reload: 'sf',
      churn: false,
      outageSeconds: 12,
      restartEvery: 1,
      sticky: 20,
      cookieless: 4,
      pauseMs: 50,
    });
    expect(readOptions([], { SOAK_MINUTES: '5' })?.minutes).toBe(5);
    expect(readOptions(['--minutes', '1', '--reload', 'master', '--churn'], { SOAK_MINUTES: '5' })).toMatchObject({
      minutes: 1,
      reload: 'master',
      churn: true,
    });
  });
});

describe('the soak figures', () => {
  it('gives each quantile of the latencies within 5%, in a fixed size', () => {
    const l = new Latencies();
    for (let ms = 1; ms <= 1000; ms++) l.add(ms);
    l.add(120_000); // past the last bucket: counted in it
    for (const [q, want] of [
      [0.5, 500],
      [0.99, 990],
    ] as const) {
      expect(l.quantile(q)).toBeGreaterThanOrEqual(want);
      expect(l.quantile(q)).toBeLessThanOrEqual(want * 1.05);
    }
    expect(new Latencies().quantile(0.5)).toBeNaN();
  });

  it('keeps the first few reasons of failure and counts the rest as other', () => {
    const s = new PhaseStats();
    for (let i = 0; i < 8; i++) s.fail(`reason ${String(i)}`);
    s.fail('reason 0');
    expect(s.failures).toBe(9);
    expect([...s.reasons]).toEqual([
      ['reason 0', 2],
      ['reason 1', 1],
      ['reason 2', 1],
      ['reason 3', 1],
      ['reason 4', 1],
      ['other', 3],
    ]);
  });

  it('says how long failures lasted in the worst run of a phase, from its first failure to its last', () => {
    const s = new PhaseStats();
    s.begin();
    s.fail('a', 1_000);
    s.fail('a', 1_500);
    s.begin();
    s.fail('a', 9_000);
    s.fail('a', 9_200);
    expect(s.longestFailingMs).toBe(500);
  });

  it('restarts the agent every --restart-every cycles, the second time with SIGKILL, and never with 0', () => {
    const defaults = readOptions([], {}) as SoakOptions;
    const restarts = (o: SoakOptions, cycles: number): string[] =>
      Array.from(
        { length: cycles },
        (_, c) =>
          cycle(c, o)
            .map((p) => p.name)
            .find((n) => n.startsWith('agent-')) ?? '-',
      );
    expect(restarts(defaults, 4)).toEqual(['agent-restart', 'agent-kill', 'agent-restart', 'agent-restart']);
    expect(restarts({ ...defaults, restartEvery: 2 }, 6)).toEqual(['-', 'agent-restart', '-', 'agent-kill', '-', 'agent-restart']);
    expect(restarts({ ...defaults, restartEvery: 0 }, 3)).toEqual(['-', '-', '-']);
    expect(cycle(0, { ...defaults, churn: true }).map((p) => p.name)).toEqual([
      'steady',
      'scale-up',
      'scale-down',
      'dns-outage',
      'agent-restart',
      'haproxy-reload',
      'name-churn',
    ]);
  });
});
