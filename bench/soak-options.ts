/** What `npm run soak` takes: its flags, read and checked before anything starts. */
import { parseArgs } from 'node:util';
import type { HaproxyMode } from '../test/support/haproxy.ts';

/** How the soak reloads HAProxy (--reload): `-sf`, `-sf` with `-x`, or SIGUSR2 to a `-W` master. */
export const RELOAD_WAYS = ['sf', 'sf-x', 'master'] as const;
export type ReloadWay = (typeof RELOAD_WAYS)[number];
/** The TestHaproxy mode each way runs HAProxy in. */
export const RELOAD_MODE: Readonly<Record<ReloadWay, HaproxyMode>> = { sf: 'standalone', 'sf-x': 'seamless', master: 'master-worker' };

export type SoakOptions = Readonly<{
  minutes: number;
  reload: ReloadWay;
  /** A name-churn phase: the SRV targets take new names, the pods stay. */
  churn: boolean;
  outageSeconds: number;
  /** The agent restarts every this many cycles; 0: never (one life, to see its memory over the whole soak). */
  restartEvery: number;
  sticky: number;
  cookieless: number;
  pauseMs: number;
}>;

export const USAGE = `Usage: npm run soak -- [--minutes N] [--reload sf|sf-x|master] [--churn] [--outage S]
                      [--restart-every N] [--sticky N] [--cookieless N] [--pause MS]
  --minutes N       how long the phases cycle (SOAK_MINUTES; default 20)
  --reload WAY      how HAProxy is reloaded after saving its server state: sf (a new process
                    with -sf <old pid>, the default), sf-x (the same with -x, a seamless
                    reload), master (SIGUSR2 to a -W master, as the official image runs it)
  --churn           add a phase where the SRV targets take new names (the pods stay)
  --outage S        seconds BIND is stopped in a DNS outage (default 12)
  --restart-every N restart the agent every N cycles (default 1; the second restart is a
                    SIGKILL); 0: never, one agent life over the whole soak
  --sticky N        clients with a cookie jar (default 20)
  --cookieless N    clients without cookies (default 4)
  --pause MS        each client's pause between requests (default 50)`;

/** A usage error: said in one line, exit 2. */
export class SoakUsageError extends Error {}

/** `text` as a number within bounds; `said` is how the user gave it (`--pause 5x`, `SOAK_MINUTES=5x`). */
function number(said: string, text: string, o: Readonly<{ min: number; max: number; whole: boolean }>): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < o.min || n > o.max || (o.whole && !Number.isInteger(n)))
    throw new SoakUsageError(`${said}: expected ${o.whole ? 'a whole number' : 'a number'} from ${String(o.min)} to ${String(o.max)}`);
  return n;
}

const FLAGS = {
  minutes: { type: 'string' },
  reload: { type: 'string' },
  churn: { type: 'boolean' },
  outage: { type: 'string' },
  'restart-every': { type: 'string' },
  sticky: { type: 'string' },
  cookieless: { type: 'string' },
  pause: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** What parseArgs refused, told by its error code (its messages are not an API) and the command line. */
function parseMessage(err: unknown, argv: readonly string[]): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const name = (arg: string): string => arg.split('=')[0] ?? arg;
  const known = (arg: string): boolean => name(arg) === '-h' || Object.hasOwn(FLAGS, name(arg).replace(/^--/, ''));
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown flag ${name(argv.find((a) => a.startsWith('-') && !known(a)) ?? '?')}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const takesValue = (a: string): boolean => Object.entries(FLAGS).some(([k, f]) => `--${k}` === a && f.type === 'string');
    const lacking = argv.findLast((a, i) => takesValue(a) && (argv[i + 1] ?? '-').startsWith('-'));
    return `${lacking ?? 'a flag'} needs a value`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return 'unexpected argument: expected flags only';
  return err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
}

/** The options from the command line and SOAK_MINUTES (a flag wins); null when help was asked. */
export function readOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): SoakOptions | null {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false });
  } catch (err) {
    throw new SoakUsageError(`${parseMessage(err, argv)} (npm run soak -- --help)`);
  }
  const v = parsed.values;
  if (v.help === true) return null;
  const minutesText = v.minutes ?? env['SOAK_MINUTES'];
  const reload = v.reload ?? 'sf';
  if (!(RELOAD_WAYS as readonly string[]).includes(reload))
    throw new SoakUsageError(`--reload ${reload}: expected one of ${RELOAD_WAYS.join(', ')}`);
  return {
    minutes:
      minutesText === undefined || minutesText === ''
        ? 20
        : number(v.minutes === undefined ? `SOAK_MINUTES=${minutesText}` : `--minutes ${minutesText}`, minutesText, {
            min: 0.1,
            max: 1440,
            whole: false,
          }),
    reload: reload as ReloadWay,
    churn: v.churn === true,
    outageSeconds: v.outage === undefined ? 12 : number(`--outage ${v.outage}`, v.outage, { min: 2, max: 600, whole: false }),
    restartEvery:
      v['restart-every'] === undefined
        ? 1
        : number(`--restart-every ${v['restart-every']}`, v['restart-every'], { min: 0, max: 1000, whole: true }),
    sticky: v.sticky === undefined ? 20 : number(`--sticky ${v.sticky}`, v.sticky, { min: 1, max: 500, whole: true }),
    cookieless: v.cookieless === undefined ? 4 : number(`--cookieless ${v.cookieless}`, v.cookieless, { min: 0, max: 500, whole: true }),
    pauseMs: v.pause === undefined ? 50 : number(`--pause ${v.pause}`, v.pause, { min: 0, max: 10_000, whole: true }),
  };
}

/** The options as flags, for the results: what to type to run the same soak again. */
export const optionFlags = (o: SoakOptions): string =>
  [
    `--minutes ${String(o.minutes)}`,
    `--reload ${o.reload}`,
    ...(o.churn ? ['--churn'] : []),
    `--outage ${String(o.outageSeconds)}`,
    `--restart-every ${String(o.restartEvery)}`,
    `--sticky ${String(o.sticky)}`,
    `--cookieless ${String(o.cookieless)}`,
    `--pause ${String(o.pauseMs)}`,
  ].join(' ');
