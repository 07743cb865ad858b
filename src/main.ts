#!/usr/bin/env node
/**
 * The bin. Only Node flags set the V8 flags the agent runs with (src/v8-flags.ts says which
 * and why). `node dist/main.js`, npx, the shebang and the image each start the bin
 * differently, so the bin itself starts Node again, in the same process (execve: same PID,
 * signals, file descriptors and environment), with the flags not already given on the
 * command line or in NODE_OPTIONS. Then the composition root (run.ts) loads: nothing
 * heavier loads before.
 */
import { v8Flags } from './v8-flags.ts';

const FLAGS = v8Flags(Number(process.versions.node.split('.')[0]));

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
