import type { Answer, RecordType } from 'dns-packet';
import { indexInForce, targetsToAsk, type InForce } from '../core/caps.ts';
import { DEFAULT_MAX_ENDPOINTS } from '../core/desired.ts';
import type { Endpoint } from '../core/types.ts';
import { DnsError } from '../errors.ts';
import type { RecordSpec } from '../config/model.ts';
import { RecordAsker, type Lookup } from './asker.ts';
import { NamesInForce } from './in-force.ts';
import { normalizeName, type Reply } from './message.ts';
import { stopping, type Bounds, type QuestionHooks } from './question.ts';
import { ServerChoice } from './servers.ts';
import { SerialAsker } from './serial.ts';
import { SerialTrust, trustFacts } from './serial-trust.ts';
import { lookUpTargets, type TargetLookup } from './target-lookup.ts';
import { TargetCache } from './targets.ts';
import { addressesIn, followChain, makeHostAnswer, makeSrvAnswer, MAX_CNAME, readSrv, type Address, type SrvRead } from './records.ts';
import { candidateNames } from './resolv-conf.ts';
import type { TransportHooks } from './transport.ts';
import { NO_OBSERVER, type DnsAnswer, type DnsObserver, type ResolveOptions, type ResolverOptions } from './answer.ts';

export type { AddressType, DnsAnswer, DnsObserver, ResolveOptions, ResolverOptions } from './answer.ts';

/** The targets whose addresses a record's answer is made of: all of them, or past the cap those worth asking (targetsToAsk). */
type Asked = Readonly<{
  read: SrvRead;
  inForce: readonly Endpoint[] | null;
  targets: readonly string[];
  considered: ReadonlySet<string> | null;
}>;

/**
 * What an SRV record's answer was made of: the reply, what its records say, the targets
 * asked and their addresses (`parts`, by identity), the endpoints in force it was capped
 * against, and the answer.
 */
type Made = {
  reply: Reply;
  read: SrvRead;
  asked: Asked | null;
  parts: readonly (readonly Address[])[];
  inForce: readonly Endpoint[] | null;
  answer: DnsAnswer | null;
};

/** The longest wait for a zone serial: it only ever spares a question, never holds a run up long. */
const SERIAL_TIMEOUT_MS = 500;

/** What the targets' lookups get at least, when the SRV question took most of the run's time. */
const MIN_TARGET_BUDGET_MS = 250;

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
  /** Which nameserver, how often, how long: round trips and the one that answered last. */
  readonly #servers: ServerChoice;
  /** Each question, and how each SRV record is asked next. */
  readonly #asker: RecordAsker;
  readonly #targets: TargetCache;
  readonly #serials: SerialAsker;
  readonly #trust: SerialTrust;
  /** How the targets' addresses are asked (pipelined, CNAMEs followed), and what each reply said. */
  readonly #targetLookup: TargetLookup;
  /** Per SRV name: what its answer was made of, and the answer, handed back while they stay the same. */
  readonly #made = new Map<string, Made>();
  /** The endpoints in force, indexed for the caps once per list (a lane keeps the same list while its answer says the same). */
  readonly #indexed = new WeakMap<readonly Endpoint[], InForce>();
  /** What each record's last resolve went through: the caches keyed by names DNS said keep these alone. */
  readonly #names = new NamesInForce();

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  constructor(options: ResolverOptions) {
    if (options.nameservers.length === 0) throw new TypeError('Resolver needs at least one nameserver');
    this.#o = options;
    this.#targets = new TargetCache(
      () => this.#now(),
      () => (this.#o.random ?? Math.random)(),
    );
    const observer = options.observer ?? NO_OBSERVER;
    this.#observer = observer;
    // A truncated UDP answer is a query of its own: counted, then asked again over TCP.
    this.#hooks = {
      dropped: observer.dropped,
      truncated: (ns) => {
        observer.query(ns, 'udp', 'truncated');
      },
    };
    const questionHooks: QuestionHooks = {
      ...this.#hooks,
      query: (ns, transport, result) => {
        observer.query(ns, transport, result);
      },
      rtt: (ns, ms) => {
        this.#servers.sample(ns, ms);
      },
    };
    this.#servers = new ServerChoice(options);
    this.#asker = new RecordAsker(this.#servers, questionHooks, () => this.#now());
    this.#serials = new SerialAsker(questionHooks, () => this.#now());
    this.#trust = new SerialTrust(options.serialTrust ?? { maxMs: 0, freshMs: 0 });
    this.#targetLookup = {
      ns: () => this.#servers.preferred,
      families: () => this.#o.families ?? ['A', 'AAAA'],
      cache: this.#targets,
      hooks: this.#hooks,
      observer,
      follow: (target, type, bounds) => this.#follow(target, type, bounds),
      now: () => this.#now(),
      read: new WeakMap(),
    };
  }

  /** Takes new nameservers, search list and timeouts (resolv.conf read again); queries in flight finish as they were. */
  reconfigure(options: Omit<ResolverOptions, 'observer' | 'now'>): void {
    if (options.nameservers.length === 0) throw new TypeError('Resolver needs at least one nameserver');
    this.#o = { ...this.#o, ...options };
    this.#servers.reconfigure(this.#o);
  }

  /**
   * The serial of the zone holding `name`, from the nameserver that answered last: no
   * failover (a watch asks again soon), retried as any question is while the first try
   * listens, for SERIAL_TIMEOUT_MS at most (a reply lost to a busy server must not hold a
   * run up for the full DNS timeout), nor past `bounds`. null when there is none to be had.
   */
  async serial(name: string, bounds: Bounds = {}): Promise<number | null> {
    const plan = this.#servers.serialPlan(Math.min(this.#o.timeoutMs, SERIAL_TIMEOUT_MS));
    if (plan === null) return null;
    const at = this.#now();
    try {
      const { reading, rcode, ns, transport } = await this.#serials.ask(plan, name, bounds);
      this.#observer.query(ns, transport, reading === null ? rcode.toLowerCase() : 'soa');
      this.#trust.read(name, reading, at);
      return reading?.serial ?? null;
    } catch (err) {
      if (!(err instanceof DnsError)) throw err;
      return null; // each try's failure is counted as it ends
    }
  }

  /**
   * Asks the record. Every question of the run (search list, CNAMEs, the targets' addresses)
   * waits its own deadline but ends by the run's (ServerChoice.runLimitMs): a run ends
   * within it however the server answers. `o.signal` aborting ends every question at
   * once (DnsError('aborted')).
   */
  async resolve(spec: RecordSpec, o: ResolveOptions = {}): Promise<DnsAnswer> {
    const inForce = o.inForce ?? null;
    const bounds: Bounds = { until: this.#now() + this.#servers.runLimitMs(), signal: o.signal };
    if (spec.kind === 'host') return this.#resolveHost(spec.host, spec.port, inForce, bounds);
    // The SRV names asked on the way (search list, CNAME links): with the answer's, the names in force.
    const asked: string[] = [];
    let answer: DnsAnswer;
    try {
      answer = await this.#resolveSrv(spec.name, asked, inForce, bounds);
    } catch (err) {
      if (err instanceof DnsError && asked.length > 0) this.#settle(spec.name, asked, null);
      throw err;
    }
    if (asked.length > 0) this.#settle(spec.name, asked, answer.name);
    return answer;
  }

  /**
   * How much each cache holds, for tests and the benchmark: bounded by what the answers in
   * force name (and the records, nameservers and search list configured), whatever DNS said before.
   */
  cacheSizes(): Readonly<Record<string, number>> {
    const t = this.#targets.sizes();
    const trust = this.#trust.sizes();
    return {
      answers: this.#made.size,
      srvNames: this.#asker.size,
      targets: t.targets,
      targetEntries: t.entries,
      targetGlue: t.glue,
      targetQuestions: t.questions,
      targetReplies: t.replies,
      targetRecords: t.records,
      serialSeen: trust.seen,
      serialCovered: trust.covered,
      serialMoved: trust.moved,
      serialDistrusted: trust.distrusted,
      rttServers: this.#servers.sampled,
    };
  }

  /** A resolve of `record` ended: the caches forget what no record's last resolve went through. */
  #settle(record: string, asked: readonly string[], answer: string | null): void {
    if (!this.#names.settle(record, asked, answer)) return;
    this.#asker.keep(this.#names.asked());
    this.#trust.keep(this.#names.answers());
  }

  async #resolveSrv(name: string, asked: string[], inForce: readonly Endpoint[] | null, bounds: Bounds): Promise<DnsAnswer> {
    // An unchanged zone serial may stand in for the records (--serial-trust): see serial-trust.ts.
    const last = this.#made.get(name);
    let trust: 'stands' | 'verify' | 'ask' = 'ask';
    if (last !== undefined && last.answer !== null && this.#trust.enabled) {
      const at = this.#now();
      // With the watch on, its last read counts or the record is asked; without it the run reads the serial itself.
      if (!this.#trust.fresh(last.answer.name, at) && !this.#trust.watched) await this.serial(last.answer.name, bounds);
      trust = this.#trust.check(last.answer.name, at);
      if (trust === 'stands') return last.answer;
    }
    const ticket = this.#trust.begin(last?.answer?.name ?? name, this.#now());
    const found = await this.#search(name, 'SRV', bounds, asked);
    if (found.status !== 'ok') {
      this.#trust.forget(found.name);
      return { status: found.status, name: found.name };
    }
    let made = this.#made.get(name);
    if (made?.reply !== found.reply) {
      // Servers rotate the records of an answer (BIND does by default): what it says is the same when its records are.
      const read = readSrv(found.name, found.records);
      made =
        made?.read.signature === read.signature
          ? { ...made, reply: found.reply }
          : { reply: found.reply, read, asked: null, parts: [], inForce: null, answer: null };
      this.#made.set(name, made);
    }
    if (trust === 'verify' && made.read === last?.read && last.answer !== null) {
      // The record says what it said: the serial was right, the targets need not be asked.
      this.#trust.done({ ...ticket, name: found.name }, trustFacts(last.answer, made.read, new Map()));
      return last.answer;
    }
    // A large answer (over TCP) often has no room left for the additional section: the
    // targets' addresses then come from A/AAAA queries, cached for their TTL.
    const targetsFailed: { error: DnsError | null } = { error: null };
    const max = this.#o.maxEndpoints ?? DEFAULT_MAX_ENDPOINTS;
    const indexed = this.#index(inForce);
    const asking = this.#asking(made, inForce, indexed, max);
    const { map: addresses, changed } = await this.#targets.addresses(name, asking.targets, found.reply, async (missing) => {
      // What the run has left, and a little more when the SRV question took most of it.
      const until = Math.max(bounds.until ?? Infinity, this.#now() + MIN_TARGET_BUDGET_MS);
      const looked = await lookUpTargets(this.#targetLookup, missing, { until, signal: bounds.signal });
      targetsFailed.error = looked.failure;
      return looked.found;
    });
    if (bounds.signal?.aborted === true) throw stopping();
    let answer = made.answer;
    const parts = answer === null || changed ? asking.targets.map((t) => addresses.get(t) ?? []) : made.parts;
    // The same reply and the same target addresses make the same answer: the same object, which callers need not read again.
    const stale = answer === null || made.parts.length !== parts.length || made.parts.some((p, i) => p !== parts[i]);
    // A capped answer is made again when the endpoints in force changed: they keep their places (it stays as it was if it says the same).
    const capped = answer?.status === 'ok' && (answer.dropped ?? 0) > 0;
    if (answer === null || stale || (capped && made.inForce !== inForce)) {
      const next = makeSrvAnswer(found.name, made.read, addresses, max, indexed, asking.considered);
      if (answer === null || stale || !sameAnswer(answer, next)) answer = next;
      made.parts = parts;
      made.inForce = inForce;
    }
    // Records whose targets could not be looked up this run are not "no records": DNS is failing, and the last good answer is held.
    if (answer.status !== 'ok' && made.read.usable.length > 0 && targetsFailed.error !== null) throw targetsFailed.error;
    if (this.#trust.enabled) {
      this.#trust.done({ ...ticket, name: found.name }, trustFacts(answer, made.read, addresses));
      // Said once per answer: the lane reports it for as long as the answers carry it.
      if (answer.status === 'ok' && answer.serialDistrusted !== true && this.#trust.distrusted(found.name))
        answer = { ...answer, serialDistrusted: true };
    }
    made.answer = answer;
    return answer;
  }

  /**
   * The targets whose addresses `made`'s answer is made of: all of them, or past the cap
   * those it could take (those in force first: targetsToAsk), so that a run's work stays
   * bounded by the cap. The same array while they stay the same (the target cache knows an
   * unchanged answer by it).
   */
  #asking(made: Made, inForce: readonly Endpoint[] | null, indexed: InForce | null, max: number): Asked {
    const before = made.asked;
    if (before?.read === made.read && before.inForce === inForce) return before;
    const considered = targetsToAsk(made.read.ordered, indexed, max);
    const same = before?.read === made.read && sameSet(before.considered, considered);
    const targets = same ? before.targets : considered === null ? made.read.targets : Array.from(considered);
    made.asked = { read: made.read, inForce, targets, considered };
    return made.asked;
  }

  async #resolveHost(host: string, port: number, inForce: readonly Endpoint[] | null, bounds: Bounds): Promise<DnsAnswer> {
    const found = await Promise.all((this.#o.families ?? (['A', 'AAAA'] as const)).map((type) => this.#search(host, type, bounds)));
    const addrs = found.flatMap((r) => (r.status === 'ok' ? addressesIn(r.records, normalizeName(r.name)) : []));
    const name = found[0]?.name ?? normalizeName(host);
    if (addrs.length === 0) return { status: found.every((r) => r.status === 'nxdomain') ? 'nxdomain' : 'nodata', name };
    return makeHostAnswer(name, port, addrs, this.#o.maxEndpoints, this.#index(inForce));
  }

  #index(inForce: readonly Endpoint[] | null): InForce | null {
    if (inForce === null) return null;
    let indexed = this.#indexed.get(inForce);
    if (indexed === undefined) {
      indexed = indexInForce(inForce);
      this.#indexed.set(inForce, indexed);
    }
    return indexed;
  }

  /** `name` through the search list; the first candidate with records wins. Each name asked goes into `asked`. */
  async #search(name: string, type: RecordType, bounds: Bounds, asked?: string[]): Promise<Lookup & { records: Answer[] }> {
    let last: (Lookup & { records: Answer[] }) | undefined;
    let allNx = true;
    for (const candidate of candidateNames(name, this.#o.search, this.#o.ndots)) {
      last = await this.#follow(candidate, type, bounds, asked);
      if (last.status === 'ok') return last;
      if (last.status !== 'nxdomain') allNx = false;
    }
    if (last === undefined) throw new TypeError('no candidate names');
    return { ...last, status: allNx ? 'nxdomain' : 'nodata', name: normalizeName(name) };
  }

  /** One name, following CNAMEs, to the records of `type` at the end of the chain. */
  async #follow(name: string, type: RecordType, bounds: Bounds, asked?: string[]): Promise<Lookup & { records: Answer[] }> {
    let current = normalizeName(name);
    for (let hop = 0; hop < MAX_CNAME; hop++) {
      asked?.push(current);
      const looked = await this.#asker.ask(current, type, bounds);
      if (looked.status !== 'ok') return { ...looked, records: [] };
      const chain = followChain(looked.reply.answers, current, type);
      if (chain.records.length > 0) return { ...looked, name: chain.name, records: chain.records };
      if (chain.name === current) return { ...looked, status: 'nodata', records: [] };
      current = chain.name; // the answer stopped at a CNAME: ask for its target
    }
    throw new DnsError('malformed', `CNAME chain longer than ${String(MAX_CNAME)} links from ${name}`);
  }
}

/** Two answers that give the same endpoints (the same address, port, weight and priority each), whatever their order. */
function sameAnswer(a: DnsAnswer, b: DnsAnswer): boolean {
  if (a.status !== 'ok' || b.status !== 'ok') return a.status === b.status;
  if (a.endpoints.length !== b.endpoints.length || a.dropped !== b.dropped) return false;
  const text = (e: Endpoint): string => `${e.address} ${String(e.port)} ${String(e.weight)} ${String(e.priority)}`;
  const mine = new Set(a.endpoints.map(text));
  return b.endpoints.every((e) => mine.has(text(e)));
}

function sameSet(a: ReadonlySet<string> | null, b: ReadonlySet<string> | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
