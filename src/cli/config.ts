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
import { envName, FLAGS } from './flags.ts';

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
    throw new UsageError(`${argParseMessage(err)} (see --help)`);
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
    return e === undefined || e === '' ? FLAGS.find((f) => f.name === name)?.default : e;
  };
  const list = (name: string): string[] => {
    const v = values[name];
    if (Array.isArray(v) && v.length > 0) return v;
    const e = env[envName(name)];
    if (e !== undefined && e.trim() !== '') return e.split(/[\s,]+/).filter((x) => x !== '');
    const d = FLAGS.find((f) => f.name === name)?.default;
    return d === undefined ? [] : [d];
  };
  const bool = (name: string): boolean =>
    check(() => {
      if (values[name] === true) return true;
      const e = env[envName(name)];
      if (e === undefined || e === '') return false;
      if (/^(1|true|yes|on)$/i.test(e)) return true;
      if (/^(0|false|no|off)$/i.test(e)) return false;
      throw new UsageError(`${envName(name)}=${JSON.stringify(e)}: expected true or false`);
    }, false);
  const duration = (name: string, minMs: number): number => check(() => parseDurationSetting(name, str(name) ?? '', minMs), 0);
  // --watch: 0 (off), or at least 50ms: a faster watch would only load the nameserver.
  const watchMs = (): number => {
    const ms = duration('watch', 0);
    if (ms > 0 && ms < 50) problems.push(`--watch ${str('watch') ?? ''}: expected 0 (off) or at least 50ms`);
    return ms;
  };
  // --max-endpoints: a whole number of at least 1; the top only keeps it a number.
  const maxEndpoints = (): number => {
    const text = str('max-endpoints') ?? '';
    const n = /^\d{1,7}$/.test(text) ? Number(text) : 0;
    if (n >= 1 && n <= MAX_ENDPOINTS_LIMIT) return n;
    problems.push(`--max-endpoints ${JSON.stringify(text)}: expected a whole number from 1 to ${String(MAX_ENDPOINTS_LIMIT)}`);
    return 1;
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
  const config: Config = {
    sockets: list('socket').flatMap((s) => check(() => [parseSocket(s)], [])),
    backends,
    nameservers: nameservers.length === 0 ? null : nameservers,
    resolvConf: str('resolv-conf') ?? '/etc/resolv.conf',
    intervalMs: duration('interval', 100),
    respectTtl: bool('respect-ttl'),
    watchMs: watchMs(),
    serialTrustMs: duration('serial-trust', 0),
    once: bool('once'),
    dryRun: bool('dry-run'),
    logLevel,
    holdMs: duration('hold', 0),
    holdNxMs: duration('hold-nx', 0),
    drainMs: duration('drain', 0),
    weights: weights === 'ignore' ? 'ignore' : 'srv',
    cookieKey: cookieKey ?? null,
    listen: listen === undefined ? null : check(() => parseListen(listen), null),
    dnsTimeoutMs: dnsTimeout === undefined ? null : check(() => parseDurationSetting('dns-timeout', dnsTimeout, 10), null),
    socketTimeoutMs: duration('socket-timeout', 10),
    allowNets: list('allow-net').flatMap((n) => check(() => [parseAllowNet(n)], [])),
    stateFile: str('state-file') ?? null,
    dynamicServers: bool('dynamic-servers'),
    maxEndpoints: maxEndpoints(),
  };
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return { help: false, version: false, config };
}

function argParseMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const unknown = /Unknown option '([^']+)'/.exec(msg);
  if (unknown) return `unknown flag ${unknown[1] ?? ''}`;
  const missing = /Option '([^']+?)(?: <value>)?' argument missing/.exec(msg);
  if (missing) return `flag ${(missing[1] ?? '').replace(/^-., /, '')} needs a value`;
  return msg.split('\n')[0] ?? msg;
}
