import { createRequire } from 'node:module';
import type * as Prom from 'prom-client';
import { collectDefaultMetrics } from './default-metrics.ts';

// prom-client's index also loads its Pushgateway (node:http, node:https), its cluster
// aggregator (node:cluster) and, for exemplars, @opentelemetry/api, for nothing the agent
// uses. So the parts the agent uses are loaded from prom-client's lib/ folder, which is not
// its public API: package.json pins prom-client to one exact version (a release with an
// "exports" map would hide lib/), and test/deploy/footprint.test.ts loads every one of
// these paths, so an upgrade that moves them fails the tests, not the agent. What it saves:
// docs/decisions/0003-prom-client-private-paths.md.
const require = createRequire(import.meta.url);
const Registry = require('prom-client/lib/registry') as typeof Prom.Registry;
const Counter = require('prom-client/lib/counter') as typeof Prom.Counter;
const Gauge = require('prom-client/lib/gauge') as typeof Prom.Gauge;
const Histogram = require('prom-client/lib/histogram') as typeof Prom.Histogram;
type Counter<T extends string> = Prom.Counter<T>;
type Gauge<T extends string> = Prom.Gauge<T>;
type Histogram<T extends string> = Prom.Histogram<T>;

/** Every metric the agent exports, under one registry (names prefixed haproxy_dns_agent_). */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly passes: Counter<'lane' | 'name' | 'result'>;
  readonly dnsQueries: Counter<'nameserver' | 'transport' | 'result'>;
  readonly dnsDropped: Counter<'nameserver' | 'transport' | 'reason'>;
  readonly endpoints: Gauge<'backend'>;
  readonly servers: Gauge<'backend' | 'socket' | 'state' | 'kind'>;
  readonly unplaced: Gauge<'backend'>;
  readonly endpointsDropped: Gauge<'backend'>;
  readonly refused: Gauge<'backend' | 'reason'>;
  readonly commands: Counter<'socket' | 'result'>;
  readonly reloads: Counter<'socket'>;
  readonly answerAge: Gauge<'backend'>;
  readonly dnsStatus: Gauge<'backend' | 'status'>;
  readonly serialDistrusted: Gauge<'backend'>;
  readonly haproxyUp: Gauge<'socket'>;
  readonly hold: Gauge<never>;
  readonly buildInfo: Gauge<'version' | 'node'>;
  readonly updateLatency: Histogram<'backend' | 'socket'>;

  constructor(withDefaults = true) {
    const p = 'haproxy_dns_agent_';
    const registers = [this.registry];
    this.passes = new Counter({
      name: `${p}passes_total`,
      help: 'Lane runs: lane "dns" (name: the backend) or "socket" (name: the socket), by result (ok, failed).',
      labelNames: ['lane', 'name', 'result'],
      registers,
    });
    this.dnsQueries = new Counter({
      name: `${p}dns_queries_total`,
      help: 'DNS queries by nameserver, transport (udp, tcp) and result (ok, nxdomain, nodata, timeout, servfail, ...; soa: a zone serial read by --watch).',
      labelNames: ['nameserver', 'transport', 'result'],
      registers,
    });
    this.dnsDropped = new Counter({
      name: `${p}dns_replies_dropped_total`,
      help: 'DNS replies dropped as untrustworthy (wrong-id, wrong-question, wrong-source, malformed).',
      labelNames: ['nameserver', 'transport', 'reason'],
      registers,
    });
    this.endpoints = new Gauge({
      name: `${p}endpoints`,
      help: 'Endpoints in force for the backend (after hold timers).',
      labelNames: ['backend'],
      registers,
    });
    this.servers = new Gauge({
      name: `${p}servers`,
      help: 'Managed servers by kind (slot: declared in the configuration; added: by --dynamic-servers) and state (ready, drain, free).',
      labelNames: ['backend', 'socket', 'state', 'kind'],
      registers,
    });
    this.unplaced = new Gauge({
      name: `${p}endpoints_without_slot`,
      help: 'Endpoints that found no free server slot.',
      labelNames: ['backend'],
      registers,
    });
    this.endpointsDropped = new Gauge({
      name: `${p}endpoints_dropped`,
      help: 'Endpoints the last DNS answer for the backend would have made but left out (--max-endpoints, and the bound on addresses per SRV target); 0 normally.',
      labelNames: ['backend'],
      registers,
    });
    this.refused = new Gauge({
      name: `${p}refused_endpoints`,
      help: 'Endpoints DNS gave that were refused: invalid-name, unspecified, broadcast, multicast, link-local, reserved, loopback, not-allowed.',
      labelNames: ['backend', 'reason'],
      registers,
    });
    this.commands = new Counter({
      name: `${p}runtime_commands_total`,
      help: 'Runtime-API commands sent, by result (ok, rejected).',
      labelNames: ['socket', 'result'],
      registers,
    });
    this.reloads = new Counter({
      name: `${p}haproxy_reloads_total`,
      help: 'HAProxy reloads or restarts detected (Pid or start time changed).',
      labelNames: ['socket'],
      registers,
    });
    this.answerAge = new Gauge({
      name: `${p}dns_answer_age_seconds`,
      help: 'Seconds since the last good DNS answer for the backend.',
      labelNames: ['backend'],
      registers,
    });
    this.dnsStatus = new Gauge({
      name: `${p}dns_status`,
      help: "What DNS last said of the backend's record, 1 for the status in force: ok, refused (every endpoint refused by the address policy), nxdomain, nodata, failing (timeout, SERVFAIL, ...), none (not asked yet).",
      labelNames: ['backend', 'status'],
      registers,
    });
    this.serialDistrusted = new Gauge({
      name: `${p}serial_distrusted`,
      help: "1 when the zone's SOA serial of the backend's record stood still while the records changed, so it no longer stands in for them (--serial-trust); 0 otherwise.",
      labelNames: ['backend'],
      registers,
    });
    this.haproxyUp = new Gauge({
      name: `${p}haproxy_up`,
      help: "1 when the socket's last run reached HAProxy (show info answered, not a stopping process, every reply readable), 0 when it did not.",
      labelNames: ['socket'],
      registers,
    });
    this.hold = new Gauge({
      name: `${p}hold_seconds`,
      help: 'How long a good DNS answer is held through DNS failures (--hold): past it, the servers leave.',
      registers,
    });
    this.buildInfo = new Gauge({
      name: `${p}build_info`,
      help: "1, labelled with the agent's version and the Node.js version it runs on.",
      labelNames: ['version', 'node'],
      registers,
    });
    this.updateLatency = new Histogram({
      name: `${p}update_latency_seconds`,
      help: 'From a DNS answer that differs from what HAProxy serves to this socket acknowledging every command.',
      labelNames: ['backend', 'socket'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    // The event-loop delay is sampled every second, not every 10 ms (the default): each sample
    // wakes the process, and each wake-up costs CPU at rest (docs/benchmark.md).
    if (withDefaults) collectDefaultMetrics(this.registry, Counter, { eventLoopMonitoringPrecision: 1_000 });
  }

  /** What this agent is and how it was started: its version, and --hold for the answer-age alert. */
  describe(o: Readonly<{ version: string; holdMs: number }>): void {
    this.buildInfo.set({ version: o.version, node: process.versions.node }, 1);
    this.hold.set(o.holdMs / 1_000);
  }
}
