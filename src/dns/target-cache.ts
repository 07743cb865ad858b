import type { AddressType } from './answer.ts';
import { keptQuestion, type KnownReply, type Question } from './message.ts';
import { minTtl, sameAddresses, type Address } from './records.ts';

/** How long "no address" for a target is remembered, and the longest any is. */
const NEGATIVE_TTL_S = 5;
const MAX_CACHE_TTL_S = 300;

export type AddressQuestion = Question & Readonly<{ type: AddressType }>;

/** What a target's reply said: read once per reply. */
export type TargetRead = Readonly<{ status: string; addresses: readonly Address[]; cname: boolean }>;

/** The last reply to a target's question, and what it said: the same bytes (but the ID) are neither decoded nor read again. */
export type TargetReply = Readonly<{ known: KnownReply; read: TargetRead }>;

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
  /** The last reply to each of its questions, by type. */
  replies: Map<string, TargetReply>;
};

/**
 * What a record's answer asks the cache for: the targets whose addresses it is made of, and
 * the addresses its additional section holds. `targetsFrom` and `glueFrom` change whenever
 * the targets or the additional section do (they are the generations of what they came from).
 */
export type Wanted = Readonly<{
  targets: readonly string[];
  targetsFrom: number;
  glue: ReadonlyMap<string, Address[]>;
  glueFrom: number;
}>;

/** A record's addresses by target, and their version: the same version while the map says the same (absent and none alike). */
export type Addresses = Readonly<{ map: ReadonlyMap<string, Address[]>; version: number }>;

/**
 * A record's last map: what it was made for, the map, and until when it holds. `asked`: the
 * targets not in the additional section, with their cache entries (changed in place, never
 * replaced while the target is named).
 */
type Made = {
  targetsFrom: number;
  glueFrom: number;
  out: Map<string, Address[]>;
  asked: readonly (readonly [string, Entry])[];
  until: number;
  version: number;
};

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
 * else cached for their TTL, else to be asked. Two steps around the asking, which is the
 * caller's: `missing` says which targets to ask now, `addresses` takes what came and gives
 * the record's map. For the same targets and additional section, with every cached target
 * still fresh, nothing is missing and the same map comes back at once: at 1000 pods a pass
 * at rest is otherwise a thousand lookups for nothing.
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
  /** The last version given to a map. */
  #version = 0;

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

  /** The last reply to `q` and what it said, kept with its target. */
  reply(q: AddressQuestion): TargetReply | undefined {
    return this.#byTarget.get(q.name)?.replies.get(q.type);
  }

  /** Keeps the reply to `q` (not for a target no longer named). */
  keepReply(q: AddressQuestion, reply: TargetReply): void {
    this.#byTarget.get(q.name)?.replies.set(q.type, reply);
  }

  /**
   * The targets of `record`'s answer whose addresses must be asked now: for a new map
   * (other targets, another additional section), those neither in the additional section
   * nor cached and fresh; for the same, those whose cached addresses ran out. The targets
   * the answer names are held from now on, and what only its last answer named is forgotten.
   */
  missing(record: string, wanted: Wanted): string[] {
    const now = this.#now();
    const made = this.#made.get(record);
    const missing: string[] = [];
    if (made !== undefined && sameSource(made, wanted)) {
      if (now < made.until) return missing;
      for (const [t, e] of made.asked) if (e.expires <= now) missing.push(t);
      return missing;
    }
    this.#name(record, wanted.targets);
    for (const target of new Set(wanted.targets)) {
      if (wanted.glue.has(target)) continue;
      const entry = this.#byTarget.get(target)?.entry ?? null;
      if (entry === null || entry.expires <= now) missing.push(target);
    }
    return missing;
  }

  /**
   * `record`'s addresses by target, once what `missing` said was asked: `found` is what came
   * (a target whose lookup failed is left out of it, and keeps the addresses it had, run out
   * or not: a busy server must not make a known pod leave; its entry stays run out, so the
   * next run asks again). The version changes only when the map says something new.
   */
  addresses(record: string, wanted: Wanted, found: ReadonlyMap<string, Address[]>): Addresses {
    const now = this.#now();
    this.#cache(found, now);
    const made = this.#made.get(record);
    if (made !== undefined && sameSource(made, wanted)) {
      // The same answer, some targets' TTL run out and asked again: the map kept and changed in place.
      let changed = false;
      for (const target of found.keys()) {
        const addrs = this.#byTarget.get(target)?.entry?.addresses;
        if (addrs === undefined || sameAddresses(made.out.get(target) ?? [], addrs)) continue;
        made.out.set(target, addrs);
        changed = true;
      }
      made.until = until(made.asked);
      if (changed) made.version = ++this.#version;
      return { map: made.out, version: made.version };
    }
    return this.#build(record, wanted, now, made);
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
    const before = this.#named.get(record) ?? [];
    for (const t of targets) {
      const kept = this.#byTarget.get(t);
      if (kept === undefined) this.#byTarget.set(t, { refs: 1, entry: null, glue: null, questions: null, replies: new Map() });
      else kept.refs++;
    }
    for (const t of before) {
      const kept = this.#byTarget.get(t);
      if (kept !== undefined && --kept.refs <= 0) this.#byTarget.delete(t);
    }
    if (targets.length === 0) this.#named.delete(record);
    else this.#named.set(record, targets);
  }

  /** A new map for `record`: each target's addresses from the additional section, else from its entry. */
  #build(record: string, wanted: Wanted, now: number, before: Made | undefined): Addresses {
    const out = new Map<string, Address[]>();
    const asked: (readonly [string, Entry])[] = [];
    for (const target of new Set(wanted.targets)) {
      const kept = this.#byTarget.get(target);
      if (kept === undefined) continue; // no longer named: a newer answer of the record came meanwhile
      const fromGlue = wanted.glue.get(target);
      if (fromGlue !== undefined) {
        // The same addresses as last time keep the same array (and the TTLs they came with).
        const last = kept.glue;
        kept.glue = last !== null && sameAddresses(last, fromGlue) ? last : fromGlue;
        out.set(target, kept.glue);
        continue;
      }
      // A target the lookup gave nothing for gets an entry already run out: asked again next time.
      kept.entry ??= { addresses: [], expires: now };
      asked.push([target, kept.entry]);
      // Fresh (looked up now, or cached), or run out with the addresses it had (its lookup failed).
      if (kept.entry.expires > now || kept.entry.addresses.length > 0) out.set(target, kept.entry.addresses);
    }
    const version = before !== undefined && sameMap(before.out, out) ? before.version : ++this.#version;
    this.#made.set(record, { targetsFrom: wanted.targetsFrom, glueFrom: wanted.glueFrom, out, asked, until: until(asked), version });
    return { map: out, version };
  }

  /** Caches what came for targets still named; the same addresses as before keep the same array. */
  #cache(found: ReadonlyMap<string, Address[]>, now: number): void {
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
    }
  }
}

const sameSource = (made: Made, wanted: Wanted): boolean => made.targetsFrom === wanted.targetsFrom && made.glueFrom === wanted.glueFrom;

/** When the first of `asked` runs out. */
function until(asked: Made['asked']): number {
  let first = Infinity;
  for (const [, e] of asked) first = Math.min(first, e.expires);
  return first;
}

/** Two maps that give every target the same addresses (a target absent and one with none alike). */
function sameMap(a: ReadonlyMap<string, Address[]>, b: ReadonlyMap<string, Address[]>): boolean {
  for (const [target, addrs] of a) if (!sameAddresses(addrs, b.get(target) ?? [])) return false;
  for (const [target, addrs] of b) if (!a.has(target) && addrs.length > 0) return false;
  return true;
}
