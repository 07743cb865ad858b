import type { Cidr } from '../core/address-policy.ts';
import type { WeightPolicy } from '../core/plan.ts';

/**
 * The agent's configuration as the pass uses it: value types only, no parsing. The CLI
 * (src/cli/) builds a Config from flags and environment; everything else reads it from here.
 */

export type LogFormat = 'json' | 'text';

/** A record to follow: an SRV name, or a host whose A/AAAA records all get `port`. */
export type RecordSpec = Readonly<{ kind: 'srv'; name: string }> | Readonly<{ kind: 'host'; host: string; port: number }>;

/** A DNS server to ask. */
export type Nameserver = Readonly<{ host: string; port: number }>;

/** Where the runtime API listens: a UNIX socket path, or host:port of a TCP stats socket. */
export type SocketAddress = Readonly<{ kind: 'unix'; path: string }> | Readonly<{ kind: 'tcp'; host: string; port: number }>;

export type HostPort = Readonly<{ host: string; port: number }>;

/** A backend to fill and the record that feeds it. */
export type BackendSpec = Readonly<{
  backend: string;
  /** Only the slots a server-template makes of it, `<prefix><N>`, are managed ('' = every server); and the servers the agent adds. */
  prefix: string;
  record: RecordSpec;
  /** `backend[/prefix]`, for logs and metrics. */
  id: string;
}>;

export type Config = Readonly<{
  sockets: readonly SocketAddress[];
  backends: readonly BackendSpec[];
  /** null: the nameservers of resolv.conf. */
  nameservers: readonly Nameserver[] | null;
  resolvConf: string;
  intervalMs: number;
  respectTtl: boolean;
  /** --watch: how often each backend's zone serial is asked between passes; 0: never. */
  watchMs: number;
  /** --serial-trust: how long an unchanged zone serial stands in for asking the records again; 0: never. */
  serialTrustMs: number;
  once: boolean;
  dryRun: boolean;
  logLevel: string;
  /** --log-format: JSON lines for a pipeline, or text lines for a person. */
  logFormat: LogFormat;
  holdMs: number;
  holdNxMs: number;
  drainMs: number;
  weights: WeightPolicy;
  cookieKey: string | null;
  listen: HostPort | null;
  /** null: resolv.conf's `options timeout`, else 2s. */
  dnsTimeoutMs: number | null;
  socketTimeoutMs: number;
  /** --allow-net: when not empty, only endpoints inside these networks become servers. */
  allowNets: readonly Cidr[];
  /** --dynamic-servers: add servers (HAProxy 2.4+) when endpoints outnumber the free slots. */
  dynamicServers: boolean;
  /** --max-endpoints: the most endpoints a backend takes from an answer, and the most servers (slots and added) it is given. */
  maxEndpoints: number;
  /** --state-file: where the last good answers and running drains are kept across restarts. */
  stateFile: string | null;
  /** --server-state-file: where HAProxy's own `show servers state` is written, for its server-state-file to load at a reload; null: not. */
  serverStateFile: string | null;
  /** --master-socket: HAProxy's master CLI, held open to hear of reloads at once; null: off. */
  masterSocket: SocketAddress | null;
}>;

const hostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${String(port)}` : `${host}:${String(port)}`);

export const describeRecord = (r: RecordSpec): string => (r.kind === 'srv' ? r.name : hostPort(r.host, r.port));
export const describeNameserver = (ns: Nameserver): string => hostPort(ns.host, ns.port);
export const describeSocket = (a: SocketAddress): string => (a.kind === 'unix' ? a.path : hostPort(a.host, a.port));
