import { parseArgs } from 'node:util';
import { isIPAddress } from '../core/ip.ts';
import { isSafeName } from '../core/commands.ts';
import { parseDuration } from '../core/duration.ts';
import type { WeightPolicy } from '../core/plan.ts';
import type { RecordSpec } from '../dns/resolver.ts';
import type { Nameserver } from '../dns/transport.ts';
import type { SocketAddress } from '../haproxy/socket.ts';
import { UsageError } from '../errors.ts';

/** A backend to fill and the record that feeds it. */
export type BackendSpec = Readonly<{
  backend: string;
  /** Only servers whose name starts with this are managed ('' = every server). */
  prefix: string;
  record: RecordSpec;
  /** `backend[/prefix]`, for logs and metrics. */
  id: string;
}>;

export type HostPort = Readonly<{ host: string; port: number }>;

export type Config = Readonly<{
  sockets: readonly SocketAddress[];
  backends: readonly BackendSpec[];
  /** null: the nameservers of resolv.conf. */
  nameservers: readonly Nameserver[] | null;
  resolvConf: string;
  intervalMs: number;
  respectTtl: boolean;
  once: boolean;
  dryRun: boolean;
  logLevel: string;
  holdMs: number;
  holdNxMs: number;
  drainMs: number;
  weights: WeightPolicy;
  cookieKey: string | null;
  listen: HostPort | null;
  /** null: resolv.conf's `options timeout`, else 2s. */
  dnsTimeoutMs: number | null;
  socketTimeoutMs: number;
}>;

type Flag = Readonly<{
  name: string;
  type: 'string' | 'boolean';
  multiple?: boolean;
  arg?: string;
  default?: string;
  help: string;
}>;

/** Every flag, its default and its help: the source of --help and of the README table. */
export const FLAGS: readonly Flag[] = [
  {
    name: 'socket',
    type: 'string',
    multiple: true,
    arg: '<path|host:port>',
    default: '/var/run/haproxy/admin.sock',
    help: 'HAProxy admin socket (level admin): a UNIX path, or host:port of a TCP stats socket. Repeat for one socket per process (1.8 nbproc); every socket gets the same endpoints.',
  },
  {
    name: 'backend',
    type: 'string',
    multiple: true,
    arg: '<name>[/<prefix>]=<record>',
    help: 'A backend to fill and the DNS name that feeds it; repeatable. <record> is an SRV name, or host:port for A/AAAA records. With /<prefix>, only servers whose name starts with it are managed.',
  },
  {
    name: 'nameserver',
    type: 'string',
    multiple: true,
    arg: '<ip[:port]>',
    help: 'DNS server to ask; repeatable, tried in turn. Default: the nameservers in /etc/resolv.conf.',
  },
  {
    name: 'interval',
    type: 'string',
    arg: '<duration>',
    default: '1s',
    help: "Time between passes (500ms, 1s, 2m), like HAProxy's `timeout resolve`; a random 0-10% is added so replicas do not query in lockstep.",
  },
  {
    name: 'respect-ttl',
    type: 'boolean',
    help: "Poll sooner than --interval when the records' TTL is shorter (never more often than every 250ms).",
  },
  { name: 'once', type: 'boolean', help: 'One pass, then exit: 0 when HAProxy matches DNS, 1 on failure.' },
  {
    name: 'dry-run',
    type: 'boolean',
    help: 'Print every command, one per line, exactly as it would be sent, and send none. Without a reachable socket, print the endpoints DNS gave.',
  },
  {
    name: 'hold',
    type: 'string',
    arg: '<duration>',
    default: '600s',
    help: 'While the DNS server fails (timeout, SERVFAIL, REFUSED, unreachable, malformed), the last good answer stays in force this long.',
  },
  {
    name: 'hold-nx',
    type: 'string',
    arg: '<duration>',
    default: '30s',
    help: 'When the name does not exist or has no records, the last good answer stays in force this long; then the servers leave.',
  },
  {
    name: 'drain',
    type: 'string',
    arg: '<duration>',
    default: '30s',
    help: 'A server whose endpoint left DNS is set to drain (sticky clients only) this long, then to maint. 0: straight to maint.',
  },
  {
    name: 'weights',
    type: 'string',
    arg: '<srv|ignore>',
    default: 'srv',
    help: 'srv: SRV weights mapped proportionally onto 1..256 (heaviest = 256); ignore: leave the configured weights alone.',
  },
  {
    name: 'cookie-key',
    type: 'string',
    arg: '<key>',
    help: "The backend's dynamic-cookie-key, to print each server's cookie in --dry-run and check HAProxy's. Never logged.",
  },
  { name: 'listen', type: 'string', arg: '<host:port>', help: 'Serve /healthz, /readyz and /metrics (Prometheus) here. Off unless given.' },
  {
    name: 'dns-timeout',
    type: 'string',
    arg: '<duration>',
    help: "Per-query DNS timeout. Default: resolv.conf's `options timeout`, else 2s.",
  },
  { name: 'socket-timeout', type: 'string', arg: '<duration>', default: '5s', help: 'Deadline for one exchange on the HAProxy socket.' },
  {
    name: 'resolv-conf',
    type: 'string',
    arg: '<path>',
    default: '/etc/resolv.conf',
    help: 'Where to read nameserver, search, ndots, timeout and attempts from.',
  },
  {
    name: 'log-level',
    type: 'string',
    arg: '<level>',
    default: 'info',
    help: 'trace, debug, info, warn, error, fatal or silent. Logs are JSON lines on stderr.',
  },
  { name: 'help', type: 'boolean', help: 'Show this help.' },
  { name: 'version', type: 'boolean', help: 'Show the version.' },
];

/** `--dry-run` <-> HAPROXY_DNS_AGENT_DRY_RUN: the one naming rule for every flag. */
export const envName = (flag: string): string => `HAPROXY_DNS_AGENT_${flag.toUpperCase().replaceAll('-', '_')}`;

export type ParsedArgs = Readonly<{ help: boolean; version: boolean; config: Config | null }>;

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/**
 * argv + environment -> Config. A flag wins over its variable. Every value is checked
 * here, before anything starts; the first problem is a UsageError naming the flag, what
 * it got, and what it expected.
 */
export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedArgs {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    const options = Object.fromEntries(FLAGS.map((f) => [f.name, { type: f.type, multiple: f.multiple === true }]));
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as typeof values;
  } catch (err) {
    throw new UsageError(`${argParseMessage(err)} (see --help)`);
  }
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
  const bool = (name: string): boolean => {
    if (values[name] === true) return true;
    const e = env[envName(name)];
    if (e === undefined || e === '') return false;
    if (/^(1|true|yes|on)$/i.test(e)) return true;
    if (/^(0|false|no|off)$/i.test(e)) return false;
    throw new UsageError(`${envName(name)}=${JSON.stringify(e)}: expected true or false`);
  };
  if (bool('help')) return { help: true, version: false, config: null };
  if (bool('version')) return { help: false, version: true, config: null };

  const backendTexts = list('backend');
  if (backendTexts.length === 0) {
    throw new UsageError(
      `no backend given: expected --backend <name>[/<prefix>]=<record> (or ${envName('backend')}), e.g. --backend be_app=_http._tcp.web.default.svc.cluster.local`,
    );
  }
  const backends = backendTexts.map(parseBackend);
  const seen = new Set<string>();
  for (const b of backends) {
    if (seen.has(b.id)) throw new UsageError(`--backend ${b.id} given twice: expected each backend (and prefix) once`);
    seen.add(b.id);
    const overlap = backends.find((o) => o !== b && o.backend === b.backend && o.prefix.startsWith(b.prefix) && o.id !== b.id);
    if (overlap !== undefined) {
      throw new UsageError(
        `--backend ${b.id} and --backend ${overlap.id} would both manage servers starting with "${overlap.prefix}": expected prefixes that do not overlap`,
      );
    }
  }
  const nameservers = list('nameserver');
  const intervalMs = duration('interval', str('interval'), 100);
  const weights = str('weights');
  if (weights !== 'srv' && weights !== 'ignore') throw new UsageError(`--weights ${JSON.stringify(weights)}: expected srv or ignore`);
  const logLevel = str('log-level') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel))
    throw new UsageError(`--log-level ${JSON.stringify(logLevel)}: expected one of ${LOG_LEVELS.join(', ')}`);
  const listen = str('listen');
  const dnsTimeout = str('dns-timeout');
  const cookieKey = str('cookie-key');
  return {
    help: false,
    version: false,
    config: {
      sockets: list('socket').map(parseSocket),
      backends,
      nameservers: nameservers.length === 0 ? null : nameservers.map((n) => parseNameserver(n, '--nameserver')),
      resolvConf: str('resolv-conf') ?? '/etc/resolv.conf',
      intervalMs,
      respectTtl: bool('respect-ttl'),
      once: bool('once'),
      dryRun: bool('dry-run'),
      logLevel,
      holdMs: duration('hold', str('hold'), 0),
      holdNxMs: duration('hold-nx', str('hold-nx'), 0),
      drainMs: duration('drain', str('drain'), 0),
      weights,
      cookieKey: cookieKey === undefined ? null : cookieKey,
      listen: listen === undefined ? null : parseListen(listen),
      dnsTimeoutMs: dnsTimeout === undefined ? null : duration('dns-timeout', dnsTimeout, 10),
      socketTimeoutMs: duration('socket-timeout', str('socket-timeout'), 10),
    },
  };
}

function argParseMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const unknown = /Unknown option '([^']+)'/.exec(msg);
  if (unknown) return `unknown flag ${unknown[1] ?? ''}`;
  const missing = /Option '([^']+?)(?: <value>)?' argument missing/.exec(msg);
  if (missing) return `flag ${(missing[1] ?? '').replace(/^-., /, '')} needs a value`;
  return msg.split('\n')[0] ?? msg;
}

function duration(flag: string, text: string | undefined, minMs: number): number {
  const ms = parseDuration(text ?? '');
  if (ms === null) throw new UsageError(`--${flag} ${JSON.stringify(text ?? '')}: expected a duration such as 500ms, 1s, 30s, 2m or 1h`);
  if (ms < minMs) throw new UsageError(`--${flag} ${text ?? ''}: expected at least ${String(minMs)}ms`);
  return ms;
}

const DNS_NAME =
  /^(?=.{1,253}\.?$)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

function parseBackend(text: string): BackendSpec {
  const m = /^([^=/]+)(?:\/([^=]*))?=(.*)$/.exec(text);
  const expected = 'expected <backend>[/<prefix>]=<SRV name or host:port>';
  if (m === null) throw new UsageError(`--backend ${JSON.stringify(text)}: ${expected}`);
  const [, backend = '', prefix = '', record = ''] = m;
  if (!isSafeName(backend))
    throw new UsageError(
      `--backend ${JSON.stringify(text)}: backend name ${JSON.stringify(backend)} is not a valid HAProxy name (letters, digits, '-', '_', '.', ':')`,
    );
  if (prefix !== '' && !isSafeName(prefix))
    throw new UsageError(`--backend ${JSON.stringify(text)}: server prefix ${JSON.stringify(prefix)} is not a valid HAProxy name`);
  const id = prefix === '' ? backend : `${backend}/${prefix}`;
  const hostPort = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(record);
  if (hostPort !== null) {
    const host = hostPort[1] ?? hostPort[2] ?? '';
    const port = Number(hostPort[3]);
    if (port < 1 || port > 65535)
      throw new UsageError(`--backend ${JSON.stringify(text)}: port ${String(port)} out of range, expected 1..65535`);
    if (!isIPAddress(host) && !DNS_NAME.test(host))
      throw new UsageError(`--backend ${JSON.stringify(text)}: ${JSON.stringify(host)} is not a host name: ${expected}`);
    return { backend, prefix, id, record: { kind: 'host', host, port } };
  }
  if (!DNS_NAME.test(record))
    throw new UsageError(`--backend ${JSON.stringify(text)}: ${JSON.stringify(record)} is not a DNS name: ${expected}`);
  return { backend, prefix, id, record: { kind: 'srv', name: record } };
}

/** "10.0.0.10", "10.0.0.10:5353", "[fd00::10]:53" or "fd00::10". */
export function parseNameserver(text: string, what: string): Nameserver {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const v4 = /^([\d.]+)(?::(\d+))?$/.exec(text);
  const host = bracket?.[1] ?? v4?.[1] ?? text;
  const portText = bracket?.[2] ?? v4?.[2];
  const port = portText === undefined ? 53 : Number(portText);
  if (!isIPAddress(host) || port < 1 || port > 65535) {
    throw new UsageError(
      `${what} ${JSON.stringify(text)}: expected an IP address, optionally with :port (10.96.0.10, 10.96.0.10:53, [fd00::10]:53)`,
    );
  }
  return { host, port };
}

function parseSocket(text: string): SocketAddress {
  if (text.includes('/')) return { kind: 'unix', path: text };
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || port < 1 || port > 65535) {
    throw new UsageError(
      `--socket ${JSON.stringify(text)}: expected a UNIX socket path (containing '/') or host:port of a TCP stats socket`,
    );
  }
  return { kind: 'tcp', host: m[1] ?? m[2] ?? '', port };
}

function parseListen(text: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || port < 0 || port > 65535)
    throw new UsageError(`--listen ${JSON.stringify(text)}: expected host:port, e.g. 0.0.0.0:8080 or :8080`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** The --help text, built from FLAGS. */
export function helpText(version: string): string {
  const lines = [
    `haproxy-dns-agent ${version}: fills HAProxy server-template slots from DNS (SRV or A/AAAA), over the runtime API.`,
    '',
    'Usage: haproxy-dns-agent --backend <name>[/<prefix>]=<record> [--backend ...] [flags]',
    '',
    'The agent manages only the backends given, and in them only the servers whose name starts',
    'with the prefix (all servers without one). Slots must be declared with an IP literal, e.g.',
    '  server-template srv 10 127.0.0.1:9 check disabled',
    '',
    'Flags (every flag can also be set with an environment variable: --dry-run -> HAPROXY_DNS_AGENT_DRY_RUN;',
    'repeatable flags take a comma-separated list there; a flag wins over its variable):',
  ];
  for (const f of FLAGS) {
    const head = `  --${f.name}${f.arg === undefined ? '' : ` ${f.arg}`}`;
    const def = f.default === undefined ? '' : ` (default ${f.default})`;
    lines.push(head, `      ${f.help}${def}`);
  }
  lines.push('', 'Exit codes: 0 done (or --once: HAProxy matches DNS), 1 failure, 2 usage error.');
  return lines.join('\n');
}
