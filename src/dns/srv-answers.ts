import type { Answer } from 'dns-packet';
import { indexInForce, targetsToAsk, type InForce } from '../core/caps.ts';
import type { Endpoint } from '../core/types.ts';
import type { DnsError } from '../errors.ts';
import type { DnsAnswer } from './answer.ts';
import type { Lookup } from './asker.ts';
import type { Reply } from './message.ts';
import { stopping, type Bounds } from './question.ts';
import { makeSrvAnswer, readSrv, type Address, type SrvRead } from './records.ts';
import { trustFacts, type AskTicket, type SerialTrust } from './serial-trust.ts';
import type { TargetCache } from './targets.ts';

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

/** What the targets' lookups get at least, when the SRV question took most of the run's time. */
const MIN_TARGET_BUDGET_MS = 250;

/** What making an SRV record's answer takes from the resolver. */
export type SrvAnswerDeps = Readonly<{
  targets: TargetCache;
  trust: SerialTrust;
  /** Asks the addresses of `missing` targets within `bounds`: what was found, and why some were not. */
  lookUp: (missing: readonly string[], bounds: Bounds) => Promise<{ found: Map<string, Address[]>; failure: DnsError | null }>;
  now: () => number;
  /** --max-endpoints. */
  maxEndpoints: () => number;
}>;

/**
 * The answers of the SRV records the agent follows, each made of a reply and its targets'
 * addresses, and handed back as the same object while what it is made of stays the same:
 * callers recognise an unchanged answer by identity.
 */
export class SrvAnswers {
  readonly #d: SrvAnswerDeps;
  /** Per SRV record: what its answer was made of, and the answer, handed back while they stay the same. */
  readonly #made = new Map<string, Made>();
  /** The endpoints in force, indexed for the caps once per list (a lane keeps the same list while its answer says the same). */
  readonly #indexed = new WeakMap<readonly Endpoint[], InForce>();

  constructor(deps: SrvAnswerDeps) {
    this.#d = deps;
  }

  /** The answer last made for `record`, null before any. */
  last(record: string): DnsAnswer | null {
    return this.#made.get(record)?.answer ?? null;
  }

  /** How many records have an answer made (for the caches' sizes). */
  get size(): number {
    return this.#made.size;
  }

  /** The endpoints in force, indexed for the caps (once per list). */
  index(inForce: readonly Endpoint[] | null): InForce | null {
    if (inForce === null) return null;
    let indexed = this.#indexed.get(inForce);
    if (indexed === undefined) {
      indexed = indexInForce(inForce);
      this.#indexed.set(inForce, indexed);
    }
    return indexed;
  }

  /**
   * The answer `record`'s reply (`found`) makes: its targets' addresses asked as needed, the
   * answer made, or the same object handed back while it says the same.
   */
  async complete(
    name: string,
    found: Lookup & { records: Answer[] },
    ticket: AskTicket,
    trust: 'verify' | 'ask',
    inForce: readonly Endpoint[] | null,
    bounds: Bounds,
  ): Promise<DnsAnswer> {
    const last = this.#made.get(name);
    if (found.status !== 'ok') {
      this.#d.trust.forget(found.name);
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
      this.#d.trust.done({ ...ticket, name: found.name }, trustFacts(last.answer, made.read, new Map()));
      return last.answer;
    }
    // A large answer (over TCP) often has no room left for the additional section: the
    // targets' addresses then come from A/AAAA queries, cached for their TTL.
    const targetsFailed: { error: DnsError | null } = { error: null };
    const max = this.#d.maxEndpoints();
    const indexed = this.index(inForce);
    const asking = this.#asking(made, inForce, indexed, max);
    const { map: addresses, changed } = await this.#d.targets.addresses(name, asking.targets, found.reply, async (missing) => {
      // What the run has left, and a little more when the SRV question took most of it.
      const until = Math.max(bounds.until ?? Infinity, this.#d.now() + MIN_TARGET_BUDGET_MS);
      const looked = await this.#d.lookUp(missing, { until, signal: bounds.signal });
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
    if (this.#d.trust.enabled) {
      this.#d.trust.done({ ...ticket, name: found.name }, trustFacts(answer, made.read, addresses));
      // Said once per answer: the lane reports it for as long as the answers carry it.
      if (answer.status === 'ok' && answer.serialDistrusted !== true && this.#d.trust.distrusted(found.name))
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
