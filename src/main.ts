#!/usr/bin/env node
/**
 * The bin. V8 sizes its young generation for throughput (64 MiB of an agent's 130 MiB at
 * 1000 pods); the agent wants a small one, and only a Node flag sets it. `node dist/main.js`,
 * npx, the shebang and the image each start the bin differently, so the bin itself starts
 * Node again, in the same process (execve: same PID, signals, file descriptors and
 * environment), with the flag, unless the flag is already given on the command line or in
 * NODE_OPTIONS. Then the composition root (run.ts) loads: nothing heavier loads before.
 */
const FLAG = '--max-semi-space-size';

/** V8 reads `--max_semi_space_size` the same as `--max-semi-space-size`. */
const flagGiven = (args: readonly string[]): boolean => args.some((a) => a.split('=')[0]?.replaceAll('_', '-') === FLAG);

if (!flagGiven([...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)])) {
  try {
    process.execve?.(process.execPath, [process.execPath, `${FLAG}=1`, ...process.execArgv, ...process.argv.slice(1)]);
  } catch {
    // No execve (an older Node, or a platform without it): run with Node's defaults.
  }
}
await import('./run.ts');
