import type { Logger } from 'pino';
import { describeRecord, describeSocket, type Config } from '../config/model.ts';
import { decodeState, encodeState, type SavedState } from '../core/saved-state.ts';
import { parseNameserver } from '../config/values.ts';
import { parseResolvConf, RESOLV_DEFAULTS } from '../dns/resolv-conf.ts';
import { Resolver, type AddressType, type ResolverOptions } from '../dns/resolver.ts';
import type { Cidr } from '../core/address-policy.ts';
import { isMappedV4 } from '../core/ip.ts';
import { UsageError } from '../errors.ts';
import { MasterWatch } from '../haproxy/master.ts';
import { HaproxyRuntime } from '../haproxy/runtime.ts';
import { dumpServersState } from '../haproxy/server-state.ts';
import { ServerStateFile } from '../state/server-state.ts';
import type { AgentMetrics } from '../observability/metrics.ts';
import { Agent, type AgentDeps } from './agent.ts';
import { Reporter } from './report.ts';
import { DryRunWriter, SocketWriter, type Unsent } from './writers.ts';

/**
 * How long a socket lane at rest goes on `show info` alone before a full read: 10
 * intervals (10 s by default), so drift made by someone else on the socket is repaired
 * within that.
 */
export const driftCheckMs = (intervalMs: number): number => 10 * intervalMs;

/** How long a DNS question may take when neither --dns-timeout nor resolv.conf sets it: glibc's 5 s. */
export const DEFAULT_DNS_TIMEOUT_MS = 5_000;

export type Wiring = Readonly<{
  log: Logger;
  out: (line: string) => void;
  /** The text of resolv.conf, or null when it could not be read. */
  resolvConf: string | null;
  metrics: AgentMetrics | null;
  now: () => number;
  /** The state file's text at start (--state-file): null when there is none, the error when it could not be read. */
  savedState?: string | null | Error;
  /** Writes the state file atomically; absent without --state-file. */
  writeState?: (text: string) => void;
  /** --server-state-file on disk: replace it atomically, tell whether it is there; absent without the flag. */
  serverStateFile?: Readonly<{ write: (text: string) => void; present: () => boolean }>;
  /** Aborted: stop a batch between two of its lines (a second SIGTERM). */
  halt?: AbortSignal;
}>;

export type Built = Readonly<{
  agent: Agent;
  reporter: Reporter;
  /** Applies resolv.conf read again (SIGHUP); throws a UsageError when it names no nameserver. */
  reloadResolvConf: (text: string | null) => void;
  /** Once no batch is being sent: what the halt left unsent, per socket. */
  unsent: () => Promise<readonly Unsent[]>;
}>;

/** Builds the agent and its adapters from a validated Config. Reads nothing itself. */
export function buildAgent(config: Config, w: Wiring): Built {
  const reporter = new Reporter(w.log, w.metrics, { problemsSaidElsewhere: config.once, now: w.now });
  const resolver = new Resolver({
    ...dnsSettings(config, w.resolvConf),
    // A retry goes out within an interval; no question outlasts --hold.
    retryMaxMs: config.intervalMs,
    holdMs: config.holdMs,
    observer: reporter.dnsObserver(),
    families: wantedFamilies(config.allowNets),
    // A serial read by the watch counts for two of its periods; without the watch a pass reads its own.
    serialTrust: { maxMs: config.serialTrustMs, freshMs: 2 * config.watchMs },
    maxEndpoints: config.maxEndpoints,
  });
  const ports = config.sockets.map((a) => new HaproxyRuntime(a, { timeoutMs: config.socketTimeoutMs, retries: config.once ? 1 : 2 }));
  const saved = loadState(config, w, reporter);
  const write = w.writeState;
  const writer = config.dryRun ? new DryRunWriter(w.out, config.cookieKey) : new SocketWriter(w.halt ?? null);
  const agent = new Agent({
    backends: config.backends,
    resolve: (spec, o) => resolver.resolve(spec, o),
    serial: (name, signal) => resolver.serial(name, { signal }),
    serialView: (name) => resolver.serialView(name),
    answeredBy: (record) => resolver.answeredBy(record),
    ports,
    writer,
    reporter,
    now: w.now,
    timers: { holdMs: config.holdMs, holdNxMs: config.holdNxMs },
    policy: { allow: config.allowNets },
    drainMs: config.drainMs,
    weights: config.weights,
    cookieKey: config.cookieKey,
    driftCheckMs: driftCheckMs(config.intervalMs),
    dynamicServers: config.dynamicServers,
    maxEndpoints: config.maxEndpoints,
    saved,
    watchMaster: masterWatch(config, reporter),
    afterSocketRun: serverStateFile(config, w, reporter),
    // A dry run changes nothing, the state file included.
    persist:
      write === undefined || config.dryRun
        ? null
        : (state) => {
            try {
              write(encodeState(state));
              reporter.stateFile(config.stateFile ?? '', null);
            } catch (err) {
              reporter.stateFile(config.stateFile ?? '', `not written: ${err instanceof Error ? err.message : String(err)}`);
            }
          },
  });
  return {
    agent,
    reporter,
    reloadResolvConf: (text) => {
      resolver.reconfigure(dnsSettings(config, text));
    },
    unsent: () => writer.settled(),
  };
}

/** --server-state-file: after each socket lane's run, HAProxy's dump written when due (never by a dry run). */
function serverStateFile(config: Config, w: Wiring, reporter: Reporter): AgentDeps['afterSocketRun'] {
  const file = w.serverStateFile;
  const path = config.serverStateFile;
  if (file === undefined || path === null || config.dryRun) return undefined;
  const addresses = new Map(config.sockets.map((a) => [describeSocket(a), a]));
  const keeper = new ServerStateFile({
    sockets: [...addresses.keys()],
    dump: async (socket) => {
      const address = addresses.get(socket);
      return address === undefined ? { problem: `no socket ${socket}` } : dumpServersState(address, { timeoutMs: config.socketTimeoutMs });
    },
    write: file.write,
    present: file.present,
    now: w.now,
    retryMs: driftCheckMs(config.intervalMs),
    said: (outcome) => {
      reporter.serverStateFile(path, outcome);
    },
  });
  return (report) => keeper.afterRun(report);
}

/** --master-socket: hold the master CLI, retried at most every drift-check bound while it cannot be. */
function masterWatch(config: Config, reporter: Reporter): AgentDeps['watchMaster'] {
  const address = config.masterSocket;
  if (address === null) return undefined;
  return (reloaded) => {
    const w = new MasterWatch(
      address,
      {
        reloaded,
        state: (problem) => {
          reporter.masterSocket(w.label, problem);
        },
      },
      { retryMaxMs: driftCheckMs(config.intervalMs) },
    );
    w.start();
    return () => {
      w.close();
    };
  };
}

/** Nameservers, search list and timeouts: the flags first, then resolv.conf, then the defaults. */
function dnsSettings(config: Config, resolvConf: string | null): ResolverSettings {
  const rc = resolvConf === null ? RESOLV_DEFAULTS : parseResolvConf(resolvConf);
  const nameservers =
    config.nameservers ?? rc.nameservers.map((n) => parseNameserver(n, `nameserver ${JSON.stringify(n)} in ${config.resolvConf}`));
  if (nameservers.length === 0) {
    throw new UsageError(
      `no nameserver: ${config.resolvConf} ${resolvConf === null ? 'could not be read' : 'lists none'}; expected --nameserver <ip[:port]>`,
    );
  }
  return {
    nameservers,
    search: rc.search,
    ndots: rc.ndots,
    timeoutMs: config.dnsTimeoutMs ?? rc.timeoutMs,
    attempts: rc.attempts,
  };
}

type ResolverSettings = Omit<ResolverOptions, 'observer' | 'now' | 'families' | 'random' | 'serialTrust' | 'retryMaxMs' | 'holdMs'>;

/**
 * The address families worth asking for: with --allow-net, those of its networks (an
 * AAAA answer would be refused anyway under IPv4-only nets, and asking costs a query per
 * target); without it, both.
 */
export function wantedFamilies(nets: readonly Cidr[]): AddressType[] {
  if (nets.length === 0) return ['A', 'AAAA'];
  const out: AddressType[] = [];
  if (nets.some((n) => n.bytes.length === 4 || isMapped(n))) out.push('A');
  if (nets.some((n) => n.bytes.length === 16)) out.push('AAAA');
  return out;
}

const isMapped = (n: Cidr): boolean => n.bits >= 96 && isMappedV4(n.bytes);

/** The state file read at start, checked entry by entry; what cannot be used is a warning, never a failure. */
function loadState(config: Config, w: Wiring, reporter: Reporter): SavedState | null {
  const text = w.savedState;
  const path = config.stateFile ?? '';
  if (text === undefined || text === null) return null;
  if (text instanceof Error) {
    reporter.stateFile(path, `not read: ${text.message}`);
    return null;
  }
  const managed = config.backends.map((b) => ({ id: b.id, record: describeRecord(b.record) }));
  // Held to the bounds of a DNS answer: --max-endpoints, and the drains of this agent's sockets.
  const limits = { maxEndpoints: config.maxEndpoints, sockets: config.sockets.map(describeSocket) };
  const { state, warnings, dropped } = decodeState(text, managed, w.now(), limits);
  for (const warning of warnings) reporter.stateFile(path, `ignored in part: ${warning}`);
  reporter.stateLoaded(path, state, w.now(), dropped);
  return state;
}
