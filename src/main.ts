#!/usr/bin/env node
/**
 * The bin. V8 is tuned for throughput; the agent, a sidecar under a memory limit that waits
 * most of the time, wants two of its flags (bench/results: peak RSS at 1000 pods):
 * - `--max-semi-space-size=1`: a small young generation (V8 gave it 64 MiB of an agent's
 *   130 MiB at 1000 pods);
 * - `--max-opt=1`: code compiled no further than V8's baseline tier. The optimizing
 *   compilers' code and memory cost some 10 MiB resident, and compiling the code that runs
 *   once a second or less cost more CPU at rest than it saved. Given only where V8 is known
 *   to take it (Node 20-24): Node refuses to start on a flag V8 does not know.
 * Only Node flags set these. `node dist/main.js`, npx, the shebang and the image each start
 * the bin differently, so the bin itself starts Node again, in the same process (execve:
 * same PID, signals, file descriptors and environment), with the flags not already given on
 * the command line or in NODE_OPTIONS. Then the composition root (run.ts) loads: nothing
 * heavier loads before.
 */
const V8_MAJOR = Number(process.versions.v8.split('.')[0]);
const FLAGS: readonly (readonly [string, string])[] = [
  ['--max-semi-space-size', '1'],
  ...(V8_MAJOR >= 11 && V8_MAJOR <= 13 ? [['--max-opt', '1'] as const] : []),
];

/** V8 reads `--max_semi_space_size` the same as `--max-semi-space-size`. */
const given = (args: readonly string[], flag: string): boolean => args.some((a) => a.split('=')[0]?.replaceAll('_', '-') === flag);

const present = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)];
const missing = FLAGS.filter(([flag]) => !given(present, flag)).map(([flag, value]) => `${flag}=${value}`);
if (missing.length > 0) {
  try {
    process.execve?.(process.execPath, [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)]);
  } catch {
    // No execve (an older Node, or a platform without it): run with Node's defaults.
  }
}
await import('./run.ts');
