import { Agent, type AgentDeps } from '../../src/agent/agent.ts';
import { Reporter } from '../../src/agent/report.ts';
import { DryRunWriter, SocketWriter, type Writer } from '../../src/agent/writers.ts';
import type { BackendSpec, RecordSpec } from '../../src/config/model.ts';
import { parseBackend } from '../../src/config/values.ts';
import type { SavedState } from '../../src/core/saved-state.ts';
import type { Endpoint } from '../../src/core/types.ts';
import type { DnsAnswer } from '../../src/dns/resolver.ts';
import { DnsError } from '../../src/errors.ts';
import type { FakeHaproxy } from './fake-haproxy.ts';
import { captureLogs } from './logs.ts';

/** The SRV record the harness's one backend follows unless told otherwise. */
export const SRV = '_http._tcp.web.default.svc.cluster.local';

/**
 * A DNS that answers from a table: endpoints, an error, or never. Like the Resolver, it
 * keeps an answer's generation while the table holds the same endpoints (the same list).
 */
export class TableDns {
  readonly answers = new Map<string, Endpoint[] | DnsError | 'hang'>();
  readonly #made = new WeakMap<Endpoint[], DnsAnswer>();
  #generations = 0;
  resolve = (spec: RecordSpec): Promise<DnsAnswer> => {
    const name = spec.kind === 'srv' ? spec.name : spec.host;
    const a = this.answers.get(name);
    if (a === 'hang') return new Promise(() => undefined);
    if (a instanceof DnsError) return Promise.reject(a);
    if (a === undefined || a.length === 0) return Promise.resolve({ status: 'nxdomain', name, generation: ++this.#generations });
    const answer = this.#made.get(a) ?? {
      status: 'ok',
      name,
      endpoints: a,
      ttl: 5,
      notes: [],
      refusedNames: [],
      generation: ++this.#generations,
    };
    this.#made.set(a, answer);
    return Promise.resolve(answer);
  };
}

export type HarnessOptions = Readonly<{
  /** The backends (`be_app` of SRV unless given). */
  backends?: readonly BackendSpec[];
  /** --dry-run: the DryRunWriter prints into `printed`. */
  dryRun?: boolean;
  drainMs?: number;
  /** What --state-file held at start. */
  saved?: SavedState;
  /** Every state the agent keeps (--state-file) is pushed here. */
  kept?: SavedState[];
  /** The clock's start (1,000,000 ms unless given). */
  now?: number;
  /** A clock of the test's own instead of `clock` (Date.now, say). */
  clock?: () => number;
  /** --dynamic-servers. */
  dynamic?: boolean;
  /** The zone serial of a name (--watch). */
  serial?: (name: string) => number | null;
  /** The zone serial as the status page says it (--watch, --serial-trust). */
  serialView?: AgentDeps['serialView'];
  /** Which nameserver answered, as the status page says it. */
  answeredBy?: AgentDeps['answeredBy'];
  /** A writer of the test's own. */
  writer?: Writer;
  /** A resolver of the test's own instead of the table. */
  resolve?: AgentDeps['resolve'];
}>;

/**
 * An Agent as a test needs it: the real one, over the real HaproxyRuntime of each fake
 * HAProxy (its in-process door), a DNS answering from a table, a clock the test moves, and
 * the log lines and dry-run output at hand.
 */
export function agentHarness(haproxies: readonly FakeHaproxy[], o: HarnessOptions = {}) {
  const dns = new TableDns();
  const clock = { now: o.now ?? 1_000_000 };
  const logs = captureLogs();
  const printed: string[] = [];
  const reporter = new Reporter(logs.log, null);
  const serial = o.serial;
  const agent = new Agent({
    backends: o.backends ?? [parseBackend(`be_app=${SRV}`)],
    resolve: o.resolve ?? dns.resolve,
    ...(serial === undefined ? {} : { serial: (name: string) => Promise.resolve(serial(name)) }),
    serialView: o.serialView,
    answeredBy: o.answeredBy,
    ports: haproxies.map((h) => h.port()),
    writer: o.writer ?? (o.dryRun === true ? new DryRunWriter((l) => printed.push(l), null) : new SocketWriter()),
    reporter,
    now: o.clock ?? (() => clock.now),
    timers: { holdMs: 600_000, holdNxMs: 30_000 },
    policy: { allow: [] },
    drainMs: o.drainMs ?? 30_000,
    weights: 'srv',
    cookieKey: null,
    driftCheckMs: 10_000,
    dynamicServers: o.dynamic === true,
    saved: o.saved ?? null,
    persist: o.kept === undefined ? null : (state) => o.kept?.push(state),
  });
  return { agent, dns, clock, logs, printed, reporter };
}
