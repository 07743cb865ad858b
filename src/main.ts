#!/usr/bin/env node
/**
 * The bin. Only Node flags set the flags the agent runs with (src/v8-flags.ts says which
 * and why: SIGUSR1 kept from Node's inspector, and two of V8's). `node dist/main.js`, npx,
 * the shebang and the image each start the bin differently, so the bin itself starts Node
 * again, in the same process (execve: same PID, signals, file descriptors and
 * environment), with the flags not already given on the command line or in NODE_OPTIONS.
 * Then the composition root (run.ts) loads: nothing heavier loads before. Meanwhile the
 * bin holds the signals run.ts will handle (src/cli/signals.ts).
 *
 * process.execve is experimental in Node 24 (stability 1). It is used because no stable API
 * sets these flags for a process already started: v8.setFlagsFromString is documented as
 * undefined behaviour once V8 runs (the young generation is sized by then), and a child
 * process would add the memory this saves and stand between the agent and its signals.
 * Where execve is missing or throws, Node's defaults are used: slower to shrink, not
 * wrong; and SIGUSR1 reaches run.ts's listener (which says it ignores it) instead of the
 * inspector, from the moment run.ts has loaded. The image passes the flags on its own
 * command line and needs no execve. Why, and what it costs and saves:
 * docs/decisions/0005-bin-starts-node-again-with-flags.md.
 */
import { signalsToIgnore, STOP_SIGNALS } from './cli/signals.ts';
import { flagName, nodeFlags } from './v8-flags.ts';

const FLAGS = nodeFlags(Number(process.versions.node.split('.')[0]));

const given = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)];
const present = new Set(given.map(flagName));
const missing = FLAGS.filter((f) => !present.has(flagName(f)));
if (missing.length > 0) {
  try {
    process.execve?.(process.execPath, [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)]);
  } catch {
    // No execve (an older Node, or a platform without it): run with Node's defaults.
  }
}
// Loading the agent takes a while (over a second on a busy machine). Until run.ts takes
// the signals over, a stop signal ends an agent that has done nothing yet (exit 0, not 128
// plus the signal), and the others it handles are ignored (SIGHUP too: resolv.conf is
// read at the start anyway). Not before the execve: a
// signal caught then would be lost with the old process image.
const stopBeforeStart = (): void => {
  process.exit(0);
};
for (const sig of STOP_SIGNALS) process.on(sig, stopBeforeStart);
for (const sig of [...signalsToIgnore(given), 'SIGHUP'] as const) process.on(sig, () => undefined);
await import('./run.ts');
