import type { Logger } from 'pino';
import type { Config } from '../config/model.ts';
import { parseNameserver } from '../config/values.ts';
import { parseResolvConf, RESOLV_DEFAULTS } from '../dns/resolv-conf.ts';
import { Resolver } from '../dns/resolver.ts';
import { UsageError } from '../errors.ts';
import { HaproxyRuntime } from '../haproxy/runtime.ts';
import type { AgentMetrics } from '../observability/metrics.ts';
import { Agent } from './agent.ts';
import { Reporter } from './report.ts';
import { DryRunWriter, SocketWriter } from './writers.ts';

/** The agent's own DNS timeout when neither --dns-timeout nor resolv.conf sets one. */
export const DEFAULT_DNS_TIMEOUT_MS = 2_000;

export type Wiring = Readonly<{
  log: Logger;
  out: (line: string) => void;
  /** The text of resolv.conf, or null when it could not be read. */
  resolvConf: string | null;
  metrics: AgentMetrics | null;
  now: () => number;
}>;

/** Builds the agent and its adapters from a validated Config. Reads nothing itself. */
export function buildAgent(config: Config, w: Wiring): { agent: Agent; reporter: Reporter } {
  const rc = w.resolvConf === null ? RESOLV_DEFAULTS : parseResolvConf(w.resolvConf);
  const nameservers = config.nameservers ?? rc.nameservers.map((n) => parseNameserver(n, `nameserver in ${config.resolvConf}`));
  if (nameservers.length === 0) {
    throw new UsageError(
      `no nameserver: ${config.resolvConf} ${w.resolvConf === null ? 'could not be read' : 'lists none'}; expected --nameserver <ip[:port]>`,
    );
  }
  const timeoutSet = w.resolvConf !== null && /options[^\n]*timeout:/.test(w.resolvConf);
  const reporter = new Reporter(w.log, w.metrics);
  const resolver = new Resolver({
    nameservers,
    search: rc.search,
    ndots: rc.ndots,
    timeoutMs: config.dnsTimeoutMs ?? (timeoutSet ? rc.timeoutMs : DEFAULT_DNS_TIMEOUT_MS),
    attempts: rc.attempts,
    observer: reporter.dnsObserver(),
  });
  const ports = config.sockets.map((a) => new HaproxyRuntime(a, { timeoutMs: config.socketTimeoutMs, retries: config.once ? 1 : 2 }));
  const agent = new Agent({
    backends: config.backends,
    resolve: (spec) => resolver.resolve(spec),
    ports,
    writer: config.dryRun ? new DryRunWriter(w.out, config.cookieKey) : new SocketWriter(),
    reporter,
    now: w.now,
    timers: { holdMs: config.holdMs, holdNxMs: config.holdNxMs },
    policy: { allow: config.allowNets },
    drainMs: config.drainMs,
    weights: config.weights,
    cookieKey: config.cookieKey,
  });
  return { agent, reporter };
}
