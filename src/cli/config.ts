import { parseArgs } from 'node:util';
import type { Config } from '../config/model.ts';
import {
  backendClashes,
  parseAllowNet,
  parseBackend,
  parseDurationSetting,
  parseListen,
  parseNameserver,
  parseSocket,
} from '../config/values.ts';
import { UsageError } from '../errors.ts';
import { envName, flag, FLAGS, type Flag } from './flags.ts';

export type ParsedArgs = Readonly<{ help: boolean; version: boolean; config: Config | null }>;

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** The largest --max-endpoints taken: far above any backend, low enough to stay a bound. */
const MAX_ENDPOINTS_LIMIT = 1_000_000;

/**
 * argv + environment -> Config. A flag wins over its variable. Every value is checked
 * here, before anything starts, and every problem is reported at once: a UsageError with
 * one line per problem, each naming the flag, what it got and what it expected.
 */
export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedArgs {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    const options = Object.fromEntries(
      FLAGS.map((f) => [f.name, { type: f.type, multiple: f.multiple === true, ...(f.short === undefined ? {} : { short: f.short }) }]),
    );
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as typeof values;
  } catch (err) {
    throw new UsageError(`${argParseMessage(err, argv)} (see --help)`);
  }
  const problems: string[] = [];
  /** The value of `read()`, or `fallback` with the problem noted. */
  const check = <T>(read: () => T, fallback: T): T => {
    try {
      return read();
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      problems.push(err.message);
      return fallback;
    }
  };
  const str = (name: string): string | undefined => {
    const v = values[name];
    if (typeof v === 'string') return v;
    const e = env[envName(name)];
    return e === undefined || e === '' ? flag(name).default : e;
  };
  const list = (name: string): string[] => {
    const v = values[name];
    if (Array.isArray(v) && v.length > 0) return v;
    const e = env[envName(name)];
    if (e !== undefined && e.trim() !== '') return e.split(/[\s,]+/).filter((x) => x !== '');
    const d = flag(name).default;
    return d === undefined ? [] : [d];
  };
  const bool = (name: string): boolean =>
    check(() => {
      if (values[name] === true) return true;
      if (flag(name).argvOnly === true) return false; // a stray variable must not turn a container into a help page
      const e = env[envName(name)];
      if (e === undefined || e === '') return false;
      if (/^(1|true|yes|on)$/i.test(e)) return true;
      if (/^(0|false|no|off)$/i.test(e)) return false;
      throw new UsageError(`${envName(name)}=${JSON.stringify(e)}: expected true or false`);
    }, false);
  /** A duration at least its flag's minimum (or 0, where 0 turns it off). */
  const duration = (name: string): number => {
    const f = flag(name);
    const ms = check(() => parseDurationSetting(name, str(name) ?? '', f.zeroOff === true ? 0 : (f.min ?? 0)), 0);
    if (f.zeroOff === true && ms > 0 && ms < (f.min ?? 0))
      problems.push(`--${name} ${str(name) ?? ''}: expected 0 (off) or at least ${String(f.min)}ms`);
    return ms;
  };
  // --max-endpoints: a whole number of at least 1; the top only keeps it a number.
  const maxEndpoints = (): number => {
    const text = str('max-endpoints') ?? '';
    const n = /^\d{1,7}$/.test(text) ? Number(text) : 0;
    const least = flag('max-endpoints').min ?? 1;
    if (n >= least && n <= MAX_ENDPOINTS_LIMIT) return n;
    problems.push(
      `--max-endpoints ${JSON.stringify(text)}: expected a whole number from ${String(least)} to ${String(MAX_ENDPOINTS_LIMIT)}`,
    );
    return least;
  };
  if (bool('help')) return { help: true, version: false, config: null };
  if (bool('version')) return { help: false, version: true, config: null };

  const backendTexts = list('backend');
  if (backendTexts.length === 0) {
    problems.push(
      `no backend given: expected --backend <name>[/<prefix>]=<record> (or ${envName('backend')}), e.g. --backend be_app=_http._tcp.web.default.svc.cluster.local`,
    );
  }
  const backends = backendTexts.flatMap((t) => check(() => [parseBackend(t)], []));
  for (const clash of backendClashes(backends)) problems.push(clash);
  const nameservers = list('nameserver').flatMap((n) => check(() => [parseNameserver(n, '--nameserver')], []));
  const weights = str('weights');
  if (weights !== 'srv' && weights !== 'ignore') problems.push(`--weights ${JSON.stringify(weights)}: expected srv or ignore`);
  const logLevel = str('log-level') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`--log-level ${JSON.stringify(logLevel)}: expected one of ${LOG_LEVELS.join(', ')}`);
  const listen = str('listen');
  const dnsTimeout = str('dns-timeout');
  const cookieKey = str('cookie-key');
  const masterSocket = str('master-socket');
  const config: Config = {
    sockets: list('socket').flatMap((s) => check(() => [parseSocket(s)], [])),
    backends,
    nameservers: nameservers.length === 0 ? null : nameservers,
    resolvConf: str('resolv-conf') ?? '/etc/resolv.conf',
    intervalMs: duration('interval'),
    respectTtl: bool('respect-ttl'),
    watchMs: duration('watch'),
    serialTrustMs: duration('serial-trust'),
    once: bool('once'),
    dryRun: bool('dry-run'),
    logLevel,
    holdMs: duration('hold'),
    holdNxMs: duration('hold-nx'),
    drainMs: duration('drain'),
    weights: weights === 'ignore' ? 'ignore' : 'srv',
    cookieKey: cookieKey ?? null,
    listen: listen === undefined ? null : check(() => parseListen(listen), null),
    dnsTimeoutMs:
      dnsTimeout === undefined ? null : check(() => parseDurationSetting('dns-timeout', dnsTimeout, flag('dns-timeout').min ?? 0), null),
    socketTimeoutMs: duration('socket-timeout'),
    allowNets: list('allow-net').flatMap((n) => check(() => [parseAllowNet(n)], [])),
    stateFile: str('state-file') ?? null,
    masterSocket: masterSocket === undefined ? null : check(() => parseSocket(masterSocket, '--master-socket'), null),
    dynamicServers: bool('dynamic-servers'),
    maxEndpoints: maxEndpoints(),
  };
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return { help: false, version: false, config };
}

/**
 * What node:util's parseArgs refused, told by its error code (its messages are not an API)
 * and the command line itself: the first flag it does not know, or the last one that lacks
 * its value.
 */
function argParseMessage(err: unknown, argv: readonly string[]): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const name = (arg: string): string => arg.split('=')[0] ?? arg;
  const known = (arg: string): Flag | undefined =>
    FLAGS.find((f) => `--${f.name}` === name(arg) || (f.short !== undefined && `-${f.short}` === name(arg)));
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const unknown = argv.find((a) => a.startsWith('-') && a !== '--' && known(a) === undefined);
    return `unknown flag ${name(unknown ?? '?')}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const lacking = argv.findLast((a, i) => known(a)?.type === 'string' && !a.includes('=') && (argv[i + 1] ?? '-').startsWith('-'));
    return lacking === undefined ? 'a flag needs a value' : `flag --${known(lacking)?.name ?? '?'} needs a value`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument: expected flags only`;
  return err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
}
