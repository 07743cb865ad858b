import type { Answer, RecordType } from 'dns-packet';
import { DnsError } from '../errors.ts';
import { isIPAddress } from '../core/ip.ts';
import { isHostname, presentName } from '../core/names.ts';
import type { Endpoint } from '../core/types.ts';
import { describeNameserver, type Nameserver, type RecordSpec } from '../config/model.ts';
import { normalizeName, type Rejection, type Reply } from './message.ts';
import { candidateNames } from './resolv-conf.ts';
import { ask, type Transport, type TransportHooks } from './transport.ts';

/** What one record name gave. NXDOMAIN and NODATA are answers, not failures. */
export type DnsAnswer =
  | Readonly<{
      status: 'ok';
      name: string;
      endpoints: readonly Endpoint[];
      ttl: number;
      /** Records that gave no endpoint, said in one line each (names escaped). */
      notes: readonly string[];
      /** SRV targets that are not host names, in RFC 1035 presentation form: refused. */
      refusedNames: readonly string[];
    }>
  | Readonly<{ status: 'nxdomain' | 'nodata'; name: string; refusedNames?: readonly string[] }>;

/** What the resolver saw on the wire, for metrics and debug logs. */
export type DnsObserver = Readonly<{
  /** Every query made: which server, over what, and how it ended (ok, nxdomain, timeout, truncated...). */
  query: (ns: Nameserver, transport: Transport, result: string) => void;
  /** A reply dropped instead of trusted. */
  dropped: (ns: Nameserver, transport: Transport, why: Rejection | 'wrong-source') => void;
}>;

const NO_OBSERVER: DnsObserver = { query: () => undefined, dropped: () => undefined };

export type ResolverOptions = Readonly<{
  nameservers: readonly Nameserver[];
  search: readonly string[];
  ndots: number;
  timeoutMs: number;
  attempts: number;
  observer?: DnsObserver;
  /** Clock for the target cache; Date.now unless a test pins it. */
  now?: () => number;
}>;

type Address = { address: string; ttl: number };

/** SRV target lookups in flight at once: enough to be quick, few enough to spare the server. */
const TARGET_QUERIES_IN_FLIGHT = 16;
/** How long "no address" for a target is remembered, and the longest any is. */
const NEGATIVE_TTL_S = 5;
const MAX_CACHE_TTL_S = 300;

async function inBatches<T>(items: readonly T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

type Lookup = Readonly<{ status: 'ok' | 'nxdomain' | 'nodata'; name: string; reply: Reply }>;

/** CNAME links followed within an answer and across queries (glibc follows up to 16). */
const MAX_CNAME = 8;

/**
 * A stub resolver for the records the agent follows: several nameservers tried in turn,
 * the one that answered last asked first next time, names expanded through the search
 * list, CNAMEs followed, SRV targets completed with A/AAAA queries when the additional
 * section lacks them. Every failure is a DnsError: the caller decides what to hold.
 */
export class Resolver {
  #o: ResolverOptions;
  readonly #hooks: TransportHooks;
  readonly #observer: DnsObserver;
  #preferred = 0;
  /** SRV target -> its addresses, until their TTL runs out. */
  readonly #targets = new Map<string, { addresses: Address[]; expires: number }>();

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  constructor(options: ResolverOptions) {
    if (options.nameservers.length === 0) throw new TypeError('Resolver needs at least one nameserver');
    this.#o = options;
    const observer = options.observer ?? NO_OBSERVER;
    this.#observer = observer;
    // A truncated UDP answer is a query of its own: counted, then asked again over TCP.
    this.#hooks = {
      dropped: observer.dropped,
      truncated: (ns) => {
        observer.query(ns, 'udp', 'truncated');
      },
    };
  }

  /** Takes new nameservers, search list and timeouts (resolv.conf read again); queries in flight finish as they were. */
  reconfigure(options: Omit<ResolverOptions, 'observer' | 'now'>): void {
    if (options.nameservers.length === 0) throw new TypeError('Resolver needs at least one nameserver');
    this.#o = { ...this.#o, ...options };
    this.#preferred = 0;
  }

  async resolve(spec: RecordSpec): Promise<DnsAnswer> {
    return spec.kind === 'srv' ? this.#resolveSrv(spec.name) : this.#resolveHost(spec.host, spec.port);
  }

  async #resolveSrv(name: string): Promise<DnsAnswer> {
    const found = await this.#search(name, 'SRV');
    if (found.status !== 'ok') return { status: found.status, name: found.name };
    const srvs = found.records.flatMap((r) => (r.type === 'SRV' ? [r] : []));
    const notes: string[] = [];
    const refusedNames: string[] = [];
    const endpoints: Endpoint[] = [];
    let ttl = Math.min(...srvs.map((r) => r.ttl ?? 0));
    const usable = srvs.filter((srv) => {
      const target = normalizeName(srv.data.target);
      if (!isHostname(target)) {
        // Any byte may stand in a label: such a target never becomes a server, nor reaches a terminal raw.
        refusedNames.push(presentName(srv.data.target));
        return false;
      }
      if (srv.data.port === 0) notes.push(`SRV ${found.name}: skipped record with target ${target} port 0`);
      return srv.data.port !== 0;
    });
    // A large answer (over TCP) often has no room left for the additional section: the
    // targets' addresses then come from A/AAAA queries, cached for their TTL.
    const addresses = await this.#targetAddresses(
      usable.map((srv) => normalizeName(srv.data.target)),
      found.reply.additionals,
    );
    for (const srv of usable) {
      const target = normalizeName(srv.data.target);
      const addrs = addresses.get(target) ?? [];
      if (addrs.length === 0) notes.push(`SRV target ${target} has no A or AAAA record`);
      for (const a of addrs) {
        ttl = Math.min(ttl, a.ttl);
        endpoints.push({
          target,
          address: a.address,
          port: srv.data.port,
          weight: srv.data.weight ?? 0,
          priority: srv.data.priority ?? 0,
          ttl: srv.ttl ?? 0,
        });
      }
    }
    if (endpoints.length === 0) return { status: 'nodata', name: found.name, refusedNames };
    return { status: 'ok', name: found.name, endpoints, ttl, notes, refusedNames };
  }

  async #resolveHost(host: string, port: number): Promise<DnsAnswer> {
    const [a, aaaa] = await Promise.all([this.#search(host, 'A'), this.#search(host, 'AAAA')]);
    const addrs = [a, aaaa].flatMap((r) => (r.status === 'ok' ? addressesIn(r.records, normalizeName(r.name)) : []));
    if (addrs.length === 0) return { status: a.status === 'nxdomain' && aaaa.status === 'nxdomain' ? 'nxdomain' : 'nodata', name: a.name };
    const endpoints = addrs.map((x) => ({ target: a.name, address: x.address, port, weight: 1, priority: 0, ttl: x.ttl }));
    return { status: 'ok', name: a.name, endpoints, ttl: Math.min(...addrs.map((x) => x.ttl)), notes: [], refusedNames: [] };
  }

  /**
   * Addresses of SRV targets: from the additional section when it has them, else from
   * the cache while their TTL lasts, else from A and AAAA queries, a few at a time.
   */
  async #targetAddresses(targets: readonly string[], additionals: readonly Answer[]): Promise<Map<string, Address[]>> {
    const now = this.#now();
    for (const [t, e] of this.#targets) if (e.expires <= now) this.#targets.delete(t);
    const out = new Map<string, Address[]>();
    const missing: string[] = [];
    for (const target of new Set(targets)) {
      const glue = addressesIn(additionals, target);
      const cached = this.#targets.get(target);
      if (glue.length > 0) out.set(target, glue);
      else if (cached !== undefined) out.set(target, cached.addresses);
      else missing.push(target);
    }
    await inBatches(missing, TARGET_QUERIES_IN_FLIGHT, async (target) => {
      const [a, aaaa] = await Promise.all([this.#follow(target, 'A'), this.#follow(target, 'AAAA')]);
      const addrs = [a, aaaa].flatMap((r) => (r.status === 'ok' ? addressesIn(r.records, normalizeName(r.name)) : []));
      const ttlS = addrs.length === 0 ? NEGATIVE_TTL_S : Math.min(...addrs.map((x) => x.ttl));
      this.#targets.set(target, { addresses: addrs, expires: now + Math.min(Math.max(ttlS, 1), MAX_CACHE_TTL_S) * 1_000 });
      out.set(target, addrs);
    });
    return out;
  }

  /** `name` through the search list; the first candidate with records wins. */
  async #search(name: string, type: RecordType): Promise<Lookup & { records: Answer[] }> {
    let last: (Lookup & { records: Answer[] }) | undefined;
    let allNx = true;
    for (const candidate of candidateNames(name, this.#o.search, this.#o.ndots)) {
      last = await this.#follow(candidate, type);
      if (last.status === 'ok') return last;
      if (last.status !== 'nxdomain') allNx = false;
    }
    if (last === undefined) throw new TypeError('no candidate names');
    return { ...last, status: allNx ? 'nxdomain' : 'nodata', name: normalizeName(name) };
  }

  /** One name, following CNAMEs, to the records of `type` at the end of the chain. */
  async #follow(name: string, type: RecordType): Promise<Lookup & { records: Answer[] }> {
    let current = normalizeName(name);
    for (let hop = 0; hop < MAX_CNAME; hop++) {
      const looked = await this.#query(current, type);
      if (looked.status !== 'ok') return { ...looked, records: [] };
      const chain = followChain(looked.reply.answers, current, type);
      if (chain.records.length > 0) return { ...looked, name: chain.name, records: chain.records };
      if (chain.name === current) return { ...looked, status: 'nodata', records: [] };
      current = chain.name; // the answer stopped at a CNAME: ask for its target
    }
    throw new DnsError('malformed', `CNAME chain longer than ${String(MAX_CNAME)} links from ${name}`);
  }

  /** One question, with failover across nameservers and attempts. */
  async #query(name: string, type: RecordType): Promise<Lookup> {
    const servers = this.#o.nameservers;
    const errors: string[] = [];
    let lastKind = 'timeout';
    for (let attempt = 0; attempt < this.#o.attempts; attempt++) {
      for (let k = 0; k < servers.length; k++) {
        const index = (this.#preferred + k) % servers.length;
        const ns = servers[index];
        if (ns === undefined) continue;
        try {
          const { reply, transport } = await ask(ns, { name, type }, this.#o.timeoutMs, this.#hooks);
          const status = statusOf(reply);
          this.#observer.query(ns, transport, status);
          if (status === 'servfail' || status === 'refused' || status === 'error') {
            lastKind = status;
            errors.push(`${describeNameserver(ns)} answered ${reply.rcode}`);
            continue;
          }
          this.#preferred = index;
          return { status, name, reply };
        } catch (err) {
          if (!(err instanceof DnsError)) throw err;
          this.#observer.query(ns, err.transport ?? 'udp', err.kind);
          lastKind = err.kind;
          errors.push(err.message);
        }
      }
    }
    // Each attempt fails the same way more often than not: say each way once.
    throw new DnsError(lastKind, `${type} ${name}: no usable answer (${[...new Set(errors)].slice(-3).join('; ')})`);
  }
}

function statusOf(reply: Reply): 'ok' | 'nxdomain' | 'nodata' | 'servfail' | 'refused' | 'error' {
  switch (reply.rcode) {
    case 'NOERROR':
      return reply.answers.length > 0 ? 'ok' : 'nodata';
    case 'NXDOMAIN':
      return 'nxdomain';
    case 'SERVFAIL':
      return 'servfail';
    case 'REFUSED':
      return 'refused';
    default:
      return 'error';
  }
}

/** The records of `type` for `name` in an answer section, through its CNAMEs. */
function followChain(answers: readonly Answer[], name: string, type: RecordType): { name: string; records: Answer[] } {
  let current = name;
  for (let hop = 0; hop <= MAX_CNAME; hop++) {
    const records = answers.filter((r) => r.type === type && normalizeName(r.name) === current);
    if (records.length > 0) return { name: current, records };
    const cname = answers.find((r) => r.type === 'CNAME' && normalizeName(r.name) === current);
    if (cname?.type !== 'CNAME') return { name: current, records: [] };
    if (!isHostname(cname.data)) {
      throw new DnsError('malformed', `${name}: CNAME to ${presentName(cname.data)}, which is not a host name (refused)`);
    }
    current = normalizeName(cname.data);
  }
  throw new DnsError('malformed', `CNAME loop at ${name}`);
}

function addressesIn(records: readonly Answer[], name: string): Address[] {
  const out: Address[] = [];
  for (const r of records) {
    if ((r.type === 'A' || r.type === 'AAAA') && normalizeName(r.name) === name && isIPAddress(r.data)) {
      out.push({ address: r.data, ttl: r.ttl ?? 0 });
    }
  }
  return out;
}
