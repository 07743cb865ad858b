import type { AddressType } from './answer.ts';
import { keptQuestion, type KnownReply, type Question, type Reply } from './message.ts';
import type { KnownReplies } from './pipeline.ts';
import { indexAddresses, minTtl, sameAddresses, type Address } from './records.ts';

/** How long "no address" for a target is remembered, and the longest any is. */
const NEGATIVE_TTL_S = 5;
const MAX_CACHE_TTL_S = 300;

type AddressQuestion = Question & Readonly<{ type: AddressType }>;

type Entry = { addresses: Address[]; expires: number };

/** All that is kept of one target, for as long as an answer in force names it: forgotten as a whole when none does. */
type Target = {
  /** How many times the answers in force (the last of each record) name it. */
  refs: number;
  /** Its looked-up addresses, until their TTL runs out; null while none was looked up. */
  entry: Entry | null;
  /** The additional-section addresses last used for it. */
  glue: Address[] | null;
  /** Its A/AAAA questions, made once. */
  questions: readonly AddressQuestion[] | null;
  /** The last reply to each of its questions, by type, to skip decoding the same bytes again. */
  replies: Map<string, KnownReply>;
};

/**
 * A record's last map: its targets (the same array while its SRV records are the same), the
 * answer, and until when it holds. `asked`: the targets not in the additional section, with
 * their cache entries (changed in place, never replaced while the target is named).
 */
type Made = {
  targets: readonly string[];
  reply: Reply;
  out: Map<string, Address[]>;
  asked: readonly (readonly [string, Entry])[];
  until: number;
};

/** Addresses by target, and whether any target's changed since the last call for the same targets and answer. */
export type Addresses = Readonly<{ map: ReadonlyMap<string, Address[]>; changed: boolean }>;

/** What the cache holds, for tests and the benchmark: each count is bounded by the targets the answers in force name. */
export type TargetCacheSizes = Readonly<{
  targets: number;
  entries: number;
  glue: number;
  questions: number;
  replies: number;
  records: number;
}>;

/**
 * The addresses of SRV targets: from the answer's additional section when it has them,
 * else cached for their TTL, else asked (`lookUp`). An unchanged answer whose cached
 * targets are all still fresh gets the same map back at once: at 1000 pods a pass at rest
 * is otherwise a thousand lookups for nothing. The same addresses keep the same array, so
 * that callers recognise an unchanged answer by identity.
 *
 * Only what the answers in force name is kept: each record's last answer holds its
 * targets, and a target that no record's answer names any more is forgotten at once (a
 * headless Service's targets are its pods' own names: every pod that ever existed would
 * otherwise stay).
 */
export class TargetCache {
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #byTarget = new Map<string, Target>();
  /** Per record (its SRV name as configured): the last map made. */
  readonly #made = new Map<string, Made>();
  /** Per record: the targets its last answer names (held in #byTarget's counts). */
  readonly #named = new Map<string, readonly string[]>();
  /** The additional section of each answer kept, indexed once. */
  readonly #glue = new WeakMap<Reply, Map<string, Address[]>>();

  /** The last reply to each target question asked, kept with its target (a reply to a target no longer named is not kept). */
  readonly known: KnownReplies = {
    get: (q) => this.#byTarget.get(q.name)?.replies.get(q.type),
    set: (q, known) => {
      this.#byTarget.get(q.name)?.replies.set(q.type, known);
    },
  };

  constructor(now: () => number, random: () => number) {
    this.#now = now;
    this.#random = random;
  }

  /** The questions that ask for `targets`' addresses of `families`: for a target named, the same objects every time. */
  questions(targets: readonly string[], families: readonly AddressType[]): AddressQuestion[] {
    return targets.flatMap((name) => {
      const t = this.#byTarget.get(name);
      let qs = t?.questions;
      if (qs?.length !== families.length) {
        qs = families.map((type) => keptQuestion(name, type) as AddressQuestion);
        if (t !== undefined) t.questions = qs;
      }
      return qs;
    });
  }

  async addresses(
    record: string,
    targets: readonly string[],
    reply: Reply,
    lookUp: (missing: readonly string[]) => Promise<Map<string, Address[]>>,
  ): Promise<Addresses> {
    const now = this.#now();
    const made = this.#made.get(record);
    if (made?.targets !== targets || made.reply !== reply)
      return { map: await this.#build(record, targets, reply, lookUp, now), changed: true };
    if (now < made.until) return { map: made.out, changed: false };
    // The same answer, some targets' TTL run out: those are asked again, the map kept and changed in place.
    const missing: string[] = [];
    for (const [t, e] of made.asked) if (e.expires <= now) missing.push(t);
    let changed = false;
    for (const [target, addrs] of await this.#lookUp(missing, lookUp, now)) {
      if (made.out.get(target) === addrs) continue;
      made.out.set(target, addrs);
      changed = true;
    }
    made.until = this.#until(made.asked);
    return { map: made.out, changed };
  }

  /** `record` is gone (no longer asked): what only its answer named is forgotten. */
  forget(record: string): void {
    this.#name(record, []);
    this.#made.delete(record);
  }

  sizes(): TargetCacheSizes {
    let entries = 0;
    let glue = 0;
    let questions = 0;
    let replies = 0;
    for (const t of this.#byTarget.values()) {
      if (t.entry !== null) entries++;
      if (t.glue !== null) glue++;
      questions += t.questions?.length ?? 0;
      replies += t.replies.size;
    }
    return { targets: this.#byTarget.size, entries, glue, questions, replies, records: this.#made.size };
  }

  /** `record`'s answer now names `targets`: they are held, and what it named before and no answer names now is forgotten. */
  #name(record: string, targets: readonly string[]): void {
    const before = this.#named.get(record);
    if (before === targets) return;
    for (const t of targets) {
      const kept = this.#byTarget.get(t);
      if (kept === undefined) this.#byTarget.set(t, { refs: 1, entry: null, glue: null, questions: null, replies: new Map() });
      else kept.refs++;
    }
    for (const t of before ?? []) {
      const kept = this.#byTarget.get(t);
      if (kept !== undefined && --kept.refs <= 0) this.#byTarget.delete(t);
    }
    if (targets.length === 0) this.#named.delete(record);
    else this.#named.set(record, targets);
  }

  async #build(
    record: string,
    targets: readonly string[],
    reply: Reply,
    lookUp: (missing: readonly string[]) => Promise<Map<string, Address[]>>,
    now: number,
  ): Promise<Map<string, Address[]>> {
    // An entry run out stays while its target is named: a refresh that finds the same addresses keeps the same array.
    this.#name(record, targets);
    let glue = this.#glue.get(reply);
    if (glue === undefined) {
      glue = indexAddresses(reply.additionals);
      this.#glue.set(reply, glue);
    }
    const out = new Map<string, Address[]>();
    const missing: string[] = [];
    const asked: string[] = []; // entries made below, when they are looked up
    for (const target of new Set(targets)) {
      const fromGlue = glue.get(target);
      const kept = this.#byTarget.get(target);
      if (fromGlue !== undefined) {
        const last = kept?.glue;
        const addrs = last !== undefined && last !== null && sameAddresses(last, fromGlue) ? last : fromGlue;
        if (kept !== undefined) kept.glue = addrs;
        out.set(target, addrs);
        continue;
      }
      asked.push(target);
      const cached = kept?.entry;
      if (cached !== undefined && cached !== null && cached.expires > now) out.set(target, cached.addresses);
      else missing.push(target);
    }
    for (const [target, addrs] of await this.#lookUp(missing, lookUp, now)) out.set(target, addrs);
    // A target whose lookup failed keeps the addresses it had, run out or not: a busy server
    // must not make a known pod leave. Its entry stays run out, so the next run asks again.
    for (const target of missing) {
      const stale = this.#byTarget.get(target)?.entry;
      if (!out.has(target) && stale !== undefined && stale !== null && stale.addresses.length > 0) out.set(target, stale.addresses);
    }
    // A target the lookup gave nothing for gets an entry already run out: asked again next time.
    const entries = asked.flatMap((t) => {
      const kept = this.#byTarget.get(t);
      if (kept === undefined) return []; // no longer named: a newer answer of the record came meanwhile
      kept.entry ??= { addresses: [], expires: now };
      return [[t, kept.entry] as const];
    });
    this.#made.set(record, { targets, reply, out, asked: entries, until: this.#until(entries) });
    return out;
  }

  /** Asks for `missing` and caches what came for targets still named; the same addresses as before keep the same array. */
  async #lookUp(
    missing: readonly string[],
    lookUp: (missing: readonly string[]) => Promise<Map<string, Address[]>>,
    now: number,
  ): Promise<Map<string, Address[]>> {
    if (missing.length === 0) return new Map();
    const found = await lookUp(missing);
    for (const [target, addresses] of found) {
      const kept = this.#byTarget.get(target);
      if (kept === undefined) continue; // no answer names it any more
      const old = kept.entry?.addresses;
      const addrs = old !== undefined && sameAddresses(old, addresses) ? old : addresses;
      const ttlMs = Math.min(Math.max(addrs.length === 0 ? NEGATIVE_TTL_S : minTtl(addrs), 1), MAX_CACHE_TTL_S) * 1_000;
      // A target seen for the first time expires somewhere in the last half of its TTL, so that
      // targets that came together are not all asked again together; after that, a full TTL each time.
      const expires = now + ttlMs * (old === undefined ? 0.5 + 0.5 * this.#random() : 1);
      if (kept.entry === null) kept.entry = { addresses: addrs, expires };
      else {
        kept.entry.addresses = addrs;
        kept.entry.expires = expires;
      }
      found.set(target, addrs);
    }
    return found;
  }

  /** When the first of `asked` runs out. */
  #until(asked: Made['asked']): number {
    let until = Infinity;
    for (const [, e] of asked) until = Math.min(until, e.expires);
    return until;
  }
}
