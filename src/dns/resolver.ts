import type { RecordSpec } from '../config/model.ts';
import { indexInForce } from '../core/caps.ts';
import { DEFAULT_MAX_ENDPOINTS } from '../core/desired.ts';
import type { Endpoint } from '../core/types.ts';
import { DnsError } from '../errors.ts';
import {
  Generations,
  NO_OBSERVER,
  type AnsweredBy,
  type DnsAnswer,
  type DnsObserver,
  type ResolveOptions,
  type ResolverOptions,
} from './answer.ts';
import { RecordAsker } from './record-asker.ts';
import { NamesInForce } from './in-force.ts';
import { normalizeName } from './message.ts';
import { follow, search, type Found } from './names.ts';
import { stopping, type Bounds } from './question.ts';
import { addressesIn, inBatches, makeHostAnswer, type SrvRead } from './records.ts';
import { SerialAsker } from './serial-asker.ts';
import { SerialTrust, trustFacts, type AskTicket, type SerialView } from './serial-trust.ts';
import { RetryPolicy } from './retry-policy.ts';
import { SrvAnswers } from './srv-answers.ts';
import { askTargets, takeFollowed, TARGET_QUERIES_IN_FLIGHT, type TargetsLooked } from './target-lookup.ts';
import { TargetCache, type Addresses } from './target-cache.ts';
import { Turns } from './turns.ts';

export type { AddressType, AnsweredBy, DnsAnswer, DnsObserver, ResolveOptions, ResolverOptions } from './answer.ts';
export { Superseded } from './answer.ts';
export type { SerialView } from './serial-trust.ts';

/** The longest wait for a zone serial: it only ever spares a question, never holds a run up long. */
const SERIAL_TIMEOUT_MS = 500;

/** What the targets' lookups get at least, when the SRV question took most of the run's time. */
const MIN_TARGET_BUDGET_MS = 250;

/** Whether an unchanged zone serial stands for a record's answer: see SerialTrust.check. */
type Trust = 'stands' | 'verify' | 'ask';

/**
 * A stub resolver for the records the agent follows: several nameservers tried in turn,
 * the one that answered last asked first next time, names expanded through the search
 * list, CNAMEs followed, SRV targets completed with A/AAAA queries when the additional
 * section lacks them. Every failure is a DnsError: the caller decides what to hold.
 *
 * A resolve reads top to bottom, each piece called in turn and handing back data: the
 * zone serial's trust (serial-asker.ts, serial-trust.ts), the record through the search
 * list and CNAMEs (names.ts) asked under the retry policy (record-asker.ts,
 * retry-policy.ts, question.ts over transport.ts), the turn among overlapping resolves
 * (turns.ts), what the records say and the targets wanted (srv-answers.ts), the targets'
 * addresses (target-cache.ts, asked by target-lookup.ts over pipeline.ts), and the answer
 * made of them (srv-answers.ts).
 */
export class Resolver {
  #o: ResolverOptions;
  /** Where every try on the wire is counted (metrics, debug logs): a sink, nothing is read back. */
  readonly #observer: DnsObserver;
  /** Which nameserver, how often, how long: round trips and the one that answered last. */
  readonly #policy: RetryPolicy;
  /** Each question, and how each SRV record is asked next. */
  readonly #asker: RecordAsker;
  /** The SRV targets' addresses. */
  readonly #targets: TargetCache;
  readonly #serials: SerialAsker;
  readonly #trust: SerialTrust;
  /** Every answer's generation: the one signal of a change (DnsAnswer). */
  readonly #generations = new Generations();
  /** The SRV records' answers, and what each was made of. */
  readonly #answers = new SrvAnswers(this.#generations);
  /** Resolves of one record that overlap: the newest answer wins. */
  readonly #turns = new Turns();
  /** What each record's last resolve went through: the caches keyed by names DNS said keep these alone. */
  readonly #names = new NamesInForce();
  /** Who last answered each record resolved (its configured name): `answeredBy`. */
  readonly #heard = new Map<string, AnsweredBy>();

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
    this.#observer = options.observer ?? NO_OBSERVER;
    this.#policy = new RetryPolicy(options);
    this.#asker = new RecordAsker(this.#policy, this.#observer, () => this.#now());
    this.#serials = new SerialAsker(this.#policy, this.#observer, () => this.#now());
    this.#trust = new SerialTrust(options.serialTrust ?? { maxMs: 0, freshMs: 0 });
  }

  /** Takes new nameservers, search list and timeouts (resolv.conf read again); queries in flight finish as they were. */
  reconfigure(options: Omit<ResolverOptions, 'observer' | 'now'>): void {
    if (options.nameservers.length === 0) throw new TypeError('Resolver needs at least one nameserver');
    this.#o = { ...this.#o, ...options };
    this.#policy.reconfigure(this.#o);
  }

  /**
   * The serial of the zone holding `name`, from the nameserver that answered last: no
   * failover (a watch asks again soon), retried as any question is while the first try
   * listens, for SERIAL_TIMEOUT_MS at most (a reply lost to a busy server must not hold a
   * run up for the full DNS timeout), nor past `bounds`. null when there is none to be had.
   */
  async serial(name: string, bounds: Bounds = {}): Promise<number | null> {
    const at = this.#now();
    const reading = await this.#serials.ask(name, Math.min(this.#o.timeoutMs, SERIAL_TIMEOUT_MS), bounds);
    this.#trust.read(name, reading, at);
    return reading?.serial ?? null;
  }

  /**
   * Which nameserver last answered `record`'s question (the last one asked: search list,
   * CNAMEs), and how fast; kept while the zone's serial stands for the answer (nobody is
   * asked then). One entry per record resolved: the records come from the configuration.
   */
  answeredBy(record: RecordSpec): AnsweredBy | null {
    return this.#heard.get(record.kind === 'srv' ? record.name : record.host) ?? null;
  }

  /** The serial of the zone holding `name` as last read, and whether it is trusted (see SerialTrust.view); null when serials are not read. */
  serialView(name: string): SerialView | null {
    return this.#trust.view(name, this.#now());
  }

  /**
   * Asks the record. Every question of the run (search list, CNAMEs, the targets' addresses)
   * waits its own deadline but ends by the run's (RetryPolicy.runLimitMs): a run ends
   * within it however the server answers. `o.signal` aborting ends every question at
   * once (DnsError('aborted')). A resolve of an SRV record whose reply came after a newer
   * resolve's of the same record throws Superseded.
   */
  async resolve(spec: RecordSpec, o: ResolveOptions = {}): Promise<DnsAnswer> {
    const inForce = o.inForce ?? null;
    const bounds: Bounds = { until: this.#now() + this.#policy.runLimitMs(), signal: o.signal };
    if (spec.kind === 'host') return this.#resolveHost(spec.host, spec.port, inForce, bounds);
    // The SRV names asked on the way (search list, CNAME links): with the answer's, the names in force.
    const asked: string[] = [];
    let answer: DnsAnswer;
    try {
      answer = await this.#resolveSrv(spec.name, asked, inForce, bounds, this.#turns.begin(spec.name));
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
      answers: this.#answers.size,
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
      rttServers: this.#policy.sampled,
    };
  }

  /** A resolve of `record` ended: the caches forget what no record's last resolve went through. */
  #settle(record: string, asked: readonly string[], answer: string | null): void {
    if (!this.#names.settle(record, asked, answer)) return;
    this.#asker.keep(this.#names.asked());
    this.#trust.keep(this.#names.answers());
  }

  /** An SRV record's answer: the serial may stand for it; else the record is asked, and its answer made in its turn. */
  async #resolveSrv(record: string, asked: string[], inForce: readonly Endpoint[] | null, bounds: Bounds, n: number): Promise<DnsAnswer> {
    const last = this.#answers.last(record);
    const trust = last === null ? 'ask' : await this.#trusted(last.name, bounds);
    if (trust === 'stands' && last !== null) return last;
    const ticket = this.#trust.begin(last?.name ?? record, this.#now());
    const found = await search(this.#asker, this.#o, record, 'SRV', bounds, asked);
    // Overlapping resolves of the record make their answers in the order their replies came; an older one come late is Superseded.
    const release = await this.#turns.take(record, n);
    this.#heard.set(record, found.by);
    try {
      return await this.#answer(record, found, trust, ticket, inForce, bounds);
    } finally {
      release();
    }
  }

  /**
   * Whether the zone's serial stands for `name`'s records (--serial-trust, see
   * serial-trust.ts): with the watch on, its last read counts or the record is asked;
   * without it, the run reads the serial itself.
   */
  async #trusted(name: string, bounds: Bounds): Promise<Trust> {
    if (!this.#trust.enabled) return 'ask';
    const at = this.#now();
    if (!this.#trust.fresh(name, at) && !this.#trust.watched) await this.serial(name, bounds);
    return this.#trust.check(name, at);
  }

  /**
   * The answer `record`'s reply (`found`) makes: what its records say, the targets' addresses
   * (the additional section, the cache, else asked: a large answer over TCP often has no room
   * left for the additional section), the answer made of them, or the one kept while it says
   * the same.
   */
  async #answer(
    record: string,
    found: Found,
    trust: Trust,
    ticket: AskTicket,
    inForce: readonly Endpoint[] | null,
    bounds: Bounds,
  ): Promise<DnsAnswer> {
    if (found.status !== 'ok') {
      this.#trust.forget(found.name);
      return this.#generations.stamp({ status: found.status, name: found.name });
    }
    const { read, changed } = this.#answers.read(record, found);
    const standing = this.#answers.last(record);
    if (trust === 'verify' && !changed && standing !== null) {
      // The record says what it said: the serial was right, the targets need not be asked.
      this.#trust.done({ ...ticket, name: found.name }, trustFacts(standing, read, new Map()));
      return standing;
    }
    const max = this.#o.maxEndpoints ?? DEFAULT_MAX_ENDPOINTS;
    const wanted = this.#answers.wanted(record, inForce, max);
    const missing = this.#targets.missing(record, wanted);
    // What the run has left, and a little more when the SRV question took most of it.
    const until = Math.max(bounds.until ?? Infinity, this.#now() + MIN_TARGET_BUDGET_MS);
    const looked = await this.#lookUpTargets(missing, { until, signal: bounds.signal });
    if (bounds.signal?.aborted === true) throw stopping();
    const addresses = this.#targets.addresses(record, wanted, looked.found);
    const answer = this.#answers.make(record, found.name, addresses, inForce, max);
    // Records whose targets could not be looked up this run are not "no records": DNS is failing, and the last good answer is held.
    if (answer.status !== 'ok' && read.usable.length > 0 && looked.failure !== null) throw looked.failure;
    return this.#answers.keep(record, this.#learn(found.name, answer, read, addresses, ticket), addresses, inForce);
  }

  /**
   * The addresses of `targets`: asked pipelined of the nameserver that answered last; a
   * target whose answer stopped at a CNAME is followed on its own, as any name's chain is.
   */
  async #lookUpTargets(targets: readonly string[], bounds: Bounds): Promise<TargetsLooked> {
    if (targets.length === 0) return { found: new Map(), cnames: [], failure: null };
    const families = this.#o.families ?? ['A', 'AAAA'];
    const looked = await askTargets(this.#targets, this.#policy.preferred, families, targets, this.#observer, bounds, this.#now());
    await inBatches(looked.cnames, TARGET_QUERIES_IN_FLIGHT, async ({ target, type }) => {
      const followed = await follow(this.#asker, target, type, bounds).catch((err: unknown) => {
        if (err instanceof DnsError) return err;
        throw err;
      });
      takeFollowed(looked, target, followed);
    });
    return looked;
  }

  /** What a full ask gave, for the serial's trust; an answer whose serial did not follow its records says so (once per answer). */
  #learn(name: string, answer: DnsAnswer, read: SrvRead, addresses: Addresses, ticket: AskTicket): DnsAnswer {
    if (!this.#trust.enabled) return answer;
    this.#trust.done({ ...ticket, name }, trustFacts(answer, read, addresses.map));
    // Said once per answer: the lane reports it for as long as the answers carry it.
    if (answer.status === 'ok' && answer.serialDistrusted !== true && this.#trust.distrusted(name))
      return this.#generations.stamp({ ...answer, serialDistrusted: true });
    return answer;
  }

  async #resolveHost(host: string, port: number, inForce: readonly Endpoint[] | null, bounds: Bounds): Promise<DnsAnswer> {
    const families = this.#o.families ?? (['A', 'AAAA'] as const);
    const found = await Promise.all(families.map((type) => search(this.#asker, this.#o, host, type, bounds)));
    const by = (found.find((r) => r.status === 'ok') ?? found[0])?.by;
    if (by !== undefined) this.#heard.set(host, by);
    const addrs = found.flatMap((r) => (r.status === 'ok' ? addressesIn(r.records, normalizeName(r.name)) : []));
    const name = found[0]?.name ?? normalizeName(host);
    if (addrs.length === 0)
      return this.#generations.stamp({ status: found.every((r) => r.status === 'nxdomain') ? 'nxdomain' : 'nodata', name });
    const max = this.#o.maxEndpoints ?? DEFAULT_MAX_ENDPOINTS;
    // The endpoints in force keep their places past the cap only.
    return this.#generations.stamp(
      makeHostAnswer(name, port, addrs, max, addrs.length > max && inForce !== null ? indexInForce(inForce) : null),
    );
  }
}
