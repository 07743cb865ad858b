/**
 * What each signal does to the agent: run.ts installs the handlers from these lists, and
 * --help says them. A signal is either handled, and said in the log, or left to what
 * Node.js and the kernel do with it, which docs/flags.md ("Exit codes and signals") says.
 */

/** Stop once the runs in flight end (exit 0); the second stops a batch between two of its lines. */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;

/**
 * Signals whose default would end the process and that ask nothing of the agent: each is
 * said in the log (a warning) and ignored. SIGUSR1 is here only for a Node.js started
 * without `--disable-sigusr1` (src/v8-flags.ts): with the flag it stays blocked and never
 * arrives; without it, this listener stands where the inspector's would.
 */
export const IGNORED_SIGNALS = [
  'SIGUSR1',
  'SIGUSR2',
  'SIGALRM',
  'SIGVTALRM',
  'SIGPROF',
  'SIGIO',
  'SIGPWR',
  'SIGSTKFLT',
  'SIGXCPU',
] as const;

/**
 * The signals to take over as ignored, given Node's flags (its command line and
 * NODE_OPTIONS): a Node.js profiling the agent (`--cpu-prof`, `--prof`) samples its
 * threads with SIGPROF, which must then reach V8's own handler, not a listener.
 */
export function signalsToIgnore(nodeFlags: readonly string[]): readonly (typeof IGNORED_SIGNALS)[number][] {
  const profiling = nodeFlags.some((f) => f === '--prof' || f === '--cpu-prof' || f.startsWith('--cpu-prof='));
  return profiling ? IGNORED_SIGNALS.filter((s) => s !== 'SIGPROF') : IGNORED_SIGNALS;
}

const ignored = IGNORED_SIGNALS.filter((s) => s !== 'SIGUSR1');

/** The signals paragraph of --help. */
export const SIGNALS_HELP = [
  'Signals: SIGTERM, SIGINT or SIGQUIT stops the agent once the runs in flight end (exit 0); a second one',
  'stops it between two lines sent to HAProxy, naming what was not sent (exit 1; the next start sends it).',
  'SIGHUP reads resolv.conf again. SIGUSR1 does nothing (it opens no inspector).',
  `${ignored.slice(0, -1).join(', ')} and ${ignored.at(-1) ?? ''} are said in the log and ignored.`,
];
