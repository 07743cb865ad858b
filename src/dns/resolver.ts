import type { RecordSpec } from '../config/model.ts';
import { DEFAULT_MAX_ENDPOINTS } from '../core/desired.ts';
import type { Endpoint } from '../core/types.ts';
import { DnsError } from '../errors.ts';
import { NO_OBSERVER, type DnsAnswer, type ResolveOptions, type ResolverOptions } from './answer.ts';
import { RecordAsker } from './asker.ts';
import { NamesInForce } from './in-force.ts';
import { normalizeName } from './message.ts';
import type { Bounds } from './question.ts';
import { follow, search } from './names.ts';
import { addressesIn, makeHostAnswer } from './records.ts';
import { SerialAsker } from './serial.ts';
import { SerialTrust } from './serial-trust.ts';
import { ServerChoice } from './servers.ts';
import { SrvAnswers } from './srv-answers.ts';
import { lookUpTargets, type TargetLookup } from './target-lookup.ts';
import { TargetCache } from './targets.ts';
import { Turns } from './turns.ts';

export type { AddressType, DnsAnswer, DnsObserver, ResolveOptions, ResolverOptions } from './answer.ts';
export { Superseded } from './answer.ts';

/** The longest wait for a zone serial: it only ever spares a question, never holds a run up long. */
const SERIAL_TIMEOUT_MS = 500;

/**
 * A stub resolver for the records the agent follows: several nameservers tried in turn,
 * the one that answered last asked first next time, names expanded through the search
 * list, CNAMEs followed, SRV targets completed with A/AAAA queries when the additional
 * section lacks them. Every failure is a DnsError: the caller decides what to hold.
 */
export class Resolver {
  #o: ResolverOptions;
  /** Which nameserver, how often, how long: round trips and the one that answered last. */
  readonly #servers: ServerChoice;
  /** Each question, and how each SRV record is asked next. */
  readonly #asker: RecordAsker;
  readonly #targets: TargetCache;
  readonly #serials: SerialAsker;
  readonly #trust: SerialTrust;
  /** The SRV records' answers, and what each was made of. */
  readonly #answers: SrvAnswers;
  /** Resolves of one record that overlap: the newest answer wins. */
  readonly #turns = new Turns();
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
    // Where every try on the wire is counted (metrics, debug logs): a sink, nothing is read back.
    const observer = options.observer ?? NO_OBSERVER;
    this.#servers = new ServerChoice(options);
    this.#asker = new RecordAsker(this.#servers, observer, () => this.#now());
    this.#serials = new SerialAsker(this.#servers, observer, () => this.#now());
    this.#trust = new SerialTrust(options.serialTrust ?? { maxMs: 0, freshMs: 0 });
    const targetLookup: TargetLookup = {
      ns: () => this.#servers.preferred,
      families: () => this.#o.families ?? ['A', 'AAAA'],
      cache: this.#targets,
      observer,
      follow: (target, type, bounds) => follow(this.#asker, target, type, bounds),
      now: () => this.#now(),
      read: new WeakMap(),
    };
    this.#answers = new SrvAnswers({
      targets: this.#targets,
      trust: this.#trust,
      lookUp: (missing, bounds) => lookUpTargets(targetLookup, missing, bounds),
      now: () => this.#now(),
      maxEndpoints: () => this.#o.maxEndpoints ?? DEFAULT_MAX_ENDPOINTS,
    });
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
    const at = this.#now();
    const reading = await this.#serials.ask(name, Math.min(this.#o.timeoutMs, SERIAL_TIMEOUT_MS), bounds);
    this.#trust.read(name, reading, at);
    return reading?.serial ?? null;
  }

  /**
   * Asks the record. Every question of the run (search list, CNAMEs, the targets' addresses)
   * waits its own deadline but ends by the run's (ServerChoice.runLimitMs): a run ends
   * within it however the server answers. `o.signal` aborting ends every question at
   * once (DnsError('aborted')). A resolve of an SRV record whose reply came after a newer
   * resolve's of the same record throws Superseded.
   */
  async resolve(spec: RecordSpec, o: ResolveOptions = {}): Promise<DnsAnswer> {
    const inForce = o.inForce ?? null;
    const bounds: Bounds = { until: this.#now() + this.#servers.runLimitMs(), signal: o.signal };
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
      rttServers: this.#servers.sampled,
    };
  }

  /** A resolve of `record` ended: the caches forget what no record's last resolve went through. */
  #settle(record: string, asked: readonly string[], answer: string | null): void {
    if (!this.#names.settle(record, asked, answer)) return;
    this.#asker.keep(this.#names.asked());
    this.#trust.keep(this.#names.answers());
  }

  async #resolveSrv(name: string, asked: string[], inForce: readonly Endpoint[] | null, bounds: Bounds, n: number): Promise<DnsAnswer> {
    // An unchanged zone serial may stand in for the records (--serial-trust): see serial-trust.ts.
    const last = this.#answers.last(name);
    let trust: 'stands' | 'verify' | 'ask' = 'ask';
    if (last !== null && this.#trust.enabled) {
      const at = this.#now();
      // With the watch on, its last read counts or the record is asked; without it the run reads the serial itself.
      if (!this.#trust.fresh(last.name, at) && !this.#trust.watched) await this.serial(last.name, bounds);
      trust = this.#trust.check(last.name, at);
      if (trust === 'stands') return last;
    }
    const ticket = this.#trust.begin(last?.name ?? name, this.#now());
    const found = await search(this.#asker, this.#o, name, 'SRV', bounds, asked);
    // Overlapping resolves of the record make their answers in the order their replies came; an older one come late is Superseded.
    const release = await this.#turns.take(name, n);
    try {
      return await this.#answers.complete(name, found, ticket, trust, inForce, bounds);
    } finally {
      release();
    }
  }

  async #resolveHost(host: string, port: number, inForce: readonly Endpoint[] | null, bounds: Bounds): Promise<DnsAnswer> {
    const found = await Promise.all(
      (this.#o.families ?? (['A', 'AAAA'] as const)).map((type) => search(this.#asker, this.#o, host, type, bounds)),
    );
    const addrs = found.flatMap((r) => (r.status === 'ok' ? addressesIn(r.records, normalizeName(r.name)) : []));
    const name = found[0]?.name ?? normalizeName(host);
    if (addrs.length === 0) return { status: found.every((r) => r.status === 'nxdomain') ? 'nxdomain' : 'nodata', name };
    return makeHostAnswer(name, port, addrs, this.#o.maxEndpoints, this.#answers.index(inForce));
  }
}
