import { parseArgs } from 'node:util';
import type { Config, LogFormat } from '../config/model.ts';
import {
  backendClashes,
  flagValue,
  parseAllowNet,
  parseBackend,
  parseDurationSetting,
  parseListen,
  parseNameserver,
  parseSocket,
} from '../config/values.ts';
import { UsageError } from '../errors.ts';
import { envName, flag, FLAGS, type Flag } from './flags.ts';
import { unknownFlag, unknownVariables } from './unknown.ts';

export type ParsedArgs = Readonly<{ help: boolean; version: boolean; config: Config | null }>;

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const LOG_FORMATS: readonly LogFormat[] = ['json', 'text'];

/** The largest --max-endpoints taken: far above any backend, low enough to stay a bound. */
const MAX_ENDPOINTS_LIMIT = 1_000_000;

/** A setting's text and where it came from, as a problem's line starts (`--interval "5"`, `HAPROXY_DNS_AGENT_INTERVAL="5"`). */
type Given = Readonly<{ text: string; where: string }>;

/**
 * argv + environment -> Config. A flag wins over its variable. Every value is checked
 * here, before anything starts, and every problem is reported at once: a UsageError with
 * one line per problem, each naming the flag or variable, what it got and what it
 * expected. A variable named HAPROXY_DNS_AGENT_* that no flag has is a problem too.
 */
export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedArgs {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    const options = Object.fromEntries(
      FLAGS.map((f) => [f.name, { type: f.type, multiple: f.multiple === true, ...(f.short === undefined ? {} : { short: f.short }) }]),
    );
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as typeof values;
  } catch (err) {
    throw new UsageError(argParseMessage(err, argv));
  }
  const problems: string[] = unknownVariables(env);
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
  /** The flag's value, else its variable's, else its default. */
  const one = (name: string): Given | undefined => {
    const v = values[name];
    if (typeof v === 'string') return { text: v, where: flagValue(name, v) };
    const e = env[envName(name)];
    if (e !== undefined && e !== '') return { text: e, where: `${envName(name)}=${JSON.stringify(e)}` };
    const d = flag(name).default;
    return d === undefined ? undefined : { text: d, where: flagValue(name, d) };
  };
  const str = (name: string): string | undefined => one(name)?.text;
  /** A repeatable flag's values, else its variable's comma- or space-separated list, else its default. */
  const list = (name: string): Given[] => {
    const v = values[name];
    if (Array.isArray(v) && v.length > 0) return v.map((text) => ({ text, where: flagValue(name, text) }));
    const e = env[envName(name)];
    if (e !== undefined && e.trim() !== '') {
      const items = e.split(/[\s,]+/).filter((x) => x !== '');
      const where = (text: string): string =>
        items.length === 1 ? `${envName(name)}=${JSON.stringify(text)}` : `${envName(name)} item ${JSON.stringify(text)}`;
      return items.map((text) => ({ text, where: where(text) }));
    }
    const d = flag(name).default;
    return d === undefined ? [] : [{ text: d, where: flagValue(name, d) }];
  };
  /** Where the values of `name` came from, for a line about all of them. */
  const source = (name: string): string => (Array.isArray(values[name]) ? `--${name}` : envName(name));
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
    const given = one(name) ?? { text: '', where: flagValue(name, '') };
    const ms = check(() => parseDurationSetting(given.text, f.zeroOff === true ? 0 : (f.min ?? 0), given.where), 0);
    if (f.zeroOff === true && ms > 0 && ms < (f.min ?? 0)) problems.push(`${given.where}: expected 0 (off) or at least ${String(f.min)}ms`);
    return ms;
  };
  /** One of `choices`, else `fallback` with the problem noted. */
  const choice = <T extends string>(name: string, choices: readonly T[], expected: string, fallback: T): T => {
    const given = one(name);
    const found = choices.find((c) => c === given?.text);
    if (given === undefined || found !== undefined) return found ?? fallback;
    problems.push(`${given.where}: expected ${expected}`);
    return fallback;
  };
  // --max-endpoints: a whole number of at least 1; the top only keeps it a number.
  const maxEndpoints = (): number => {
    const given = one('max-endpoints') ?? { text: '', where: flagValue('max-endpoints', '') };
    const n = /^\d{1,7}$/.test(given.text) ? Number(given.text) : 0;
    const least = flag('max-endpoints').min ?? 1;
    if (n >= least && n <= MAX_ENDPOINTS_LIMIT) return n;
    problems.push(`${given.where}: expected a whole number from ${String(least)} to ${String(MAX_ENDPOINTS_LIMIT)}`);
    return least;
  };
  // Nothing starts and nothing is read from the environment: a typo there is said when it would matter.
  if (bool('help')) return { help: true, version: false, config: null };
  if (bool('version')) return { help: false, version: true, config: null };

  const backendTexts = list('backend');
  if (backendTexts.length === 0) {
    problems.push(
      `no backend given: expected --backend <name>[/<prefix>]=<record> (or ${envName('backend')}), e.g. --backend be_app=_http._tcp.web.default.svc.cluster.local`,
    );
  }
  const backends = backendTexts.flatMap((t) => check(() => [parseBackend(t.text, t.where)], []));
  for (const clash of backendClashes(backends, source('backend'))) problems.push(clash);
  const nameservers = list('nameserver').flatMap((n) => check(() => [parseNameserver(n.text, n.where)], []));
  const weights = choice('weights', ['srv', 'ignore'] as const, 'srv or ignore', 'srv');
  const logLevel = choice('log-level', LOG_LEVELS, `one of ${LOG_LEVELS.join(', ')}`, 'info');
  const logFormat = choice('log-format', LOG_FORMATS, 'json or text', 'json');
  const listen = one('listen');
  const dnsTimeout = one('dns-timeout');
  const cookieKey = str('cookie-key');
  const masterSocket = one('master-socket');
  const config: Config = {
    sockets: list('socket').flatMap((s) => check(() => [parseSocket(s.text, s.where)], [])),
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
    logFormat,
    holdMs: duration('hold'),
    holdNxMs: duration('hold-nx'),
    drainMs: duration('drain'),
    weights,
    cookieKey: cookieKey ?? null,
    listen: listen === undefined ? null : check(() => parseListen(listen.text, listen.where), null),
    dnsTimeoutMs:
      dnsTimeout === undefined
        ? null
        : check(() => parseDurationSetting(dnsTimeout.text, flag('dns-timeout').min ?? 0, dnsTimeout.where), null),
    socketTimeoutMs: duration('socket-timeout'),
    allowNets: list('allow-net').flatMap((n) => check(() => [parseAllowNet(n.text, n.where)], [])),
    stateFile: str('state-file') ?? null,
    serverStateFile: str('server-state-file') ?? null,
    masterSocket: masterSocket === undefined ? null : check(() => parseSocket(masterSocket.text, masterSocket.where), null),
    dynamicServers: bool('dynamic-servers'),
    maxEndpoints: maxEndpoints(),
  };
  const serverStateFile = one('server-state-file');
  if (serverStateFile?.text === '') problems.push(`${serverStateFile.where}: expected a path`);
  else if (serverStateFile !== undefined && serverStateFile.text === config.stateFile) {
    problems.push(
      `${serverStateFile.where}: the same path as --state-file; expected another file (HAProxy's server-state-file, not the agent's own state)`,
    );
  }
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
    return unknownFlag(name(unknown ?? '?'));
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const lacking = argv.findLast((a, i) => known(a)?.type === 'string' && !a.includes('=') && (argv[i + 1] ?? '-').startsWith('-'));
    return `${lacking === undefined ? 'a flag needs a value' : `flag --${known(lacking)?.name ?? '?'} needs a value`} (see --help)`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument: expected flags only (see --help)`;
  return `${err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err)} (see --help)`;
}
