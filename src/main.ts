#!/usr/bin/env node
/**
 * The bin. Only Node flags set the V8 flags the agent runs with (src/v8-flags.ts says which
 * and why). `node dist/main.js`, npx, the shebang and the image each start the bin
 * differently, so the bin itself starts Node again, in the same process (execve: same PID,
 * signals, file descriptors and environment), with the flags not already given on the
 * command line or in NODE_OPTIONS. Then the composition root (run.ts) loads: nothing
 * heavier loads before.
 *
 * process.execve is experimental in Node 24 (stability 1). It is used because no stable API
 * sets these flags for a process already started: v8.setFlagsFromString is documented as
 * undefined behaviour once V8 runs (the young generation is sized by then), and a child
 * process would add the memory this saves and stand between the agent and its signals.
 * Where execve is missing or throws, Node's defaults are used: slower to shrink, not
 * wrong. The image passes the flags on its own command line and needs no execve.
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
