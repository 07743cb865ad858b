import type { AddressType } from './answer.ts';
import { questionKey, type Question, type Reply } from './message.ts';
import type { KnownReplies } from './pipeline.ts';
import { indexAddresses, minTtl, sameAddresses, type Address } from './records.ts';

/** How long "no address" for a target is remembered, and the longest any is. */
const NEGATIVE_TTL_S = 5;
const MAX_CACHE_TTL_S = 300;

type AddressQuestion = Question & Readonly<{ type: AddressType }>;

type Entry = { addresses: Address[]; expires: number };
/** `asked`: the targets not in the additional section, with their cache entries (changed in place, never replaced). */
type Made = { reply: Reply; out: Map<string, Address[]>; asked: readonly (readonly [string, Entry])[]; until: number };

/** Addresses by target, and whether any target's changed since the last call for the same targets and answer. */
export type Addresses = Readonly<{ map: ReadonlyMap<string, Address[]>; changed: boolean }>;

/**
 * The addresses of SRV targets: from the answer's additional section when it has them,
 * else cached for their TTL, else asked (`lookUp`). An unchanged answer whose cached
 * targets are all still fresh gets the same map back at once: at 1000 pods a pass at rest
 * is otherwise a thousand lookups for nothing. The same addresses keep the same array, so
 * that callers recognise an unchanged answer by identity.
 */
export class TargetCache {
  readonly #now: () => number;
  readonly #random: () => number;
  /** Target -> its addresses, until their TTL runs out. */
  readonly #targets = new Map<string, Entry>();
  /** The last reply to each target's A/AAAA question, to skip decoding the same bytes again. */
  readonly known: KnownReplies = new Map();
  /** Target -> the additional-section addresses last used for it. */
  readonly #lastGlue = new Map<string, Address[]>();
  /** The additional section of each answer kept, indexed once. */
  readonly #glue = new WeakMap<Reply, Map<string, Address[]>>();
  /** Per list of targets (the same array while the SRV records are the same): the last map made, and until when it holds. */
  readonly #made = new WeakMap<readonly string[], Made>();

  /** Target -> its A/AAAA questions, made once. */
  readonly #questions = new Map<string, readonly AddressQuestion[]>();

  constructor(now: () => number, random: () => number) {
    this.#now = now;
    this.#random = random;
  }

  /** The questions that ask for `targets`' addresses of `families`: the same objects, keys made, every time. */
  questions(targets: readonly string[], families: readonly AddressType[]): AddressQuestion[] {
    return targets.flatMap((name) => {
      let qs = this.#questions.get(name);
      if (qs?.length !== families.length) {
        qs = families.map((type) => ({ name, type, key: questionKey({ name, type }) }));
        this.#questions.set(name, qs);
      }
      return qs;
    });
  }

  async addresses(
    targets: readonly string[],
    reply: Reply,
    lookUp: (missing: readonly string[]) => Promise<Map<string, Address[]>>,
  ): Promise<Addresses> {
    const now = this.#now();
    const made = this.#made.get(targets);
    if (made?.reply !== reply) return { map: await this.#build(targets, reply, lookUp, now), changed: true };
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

  async #build(
    targets: readonly string[],
    reply: Reply,
    lookUp: (missing: readonly string[]) => Promise<Map<string, Address[]>>,
    now: number,
  ): Promise<Map<string, Address[]>> {
    const wanted = new Set(targets);
    // An expired entry stays while its target is in the answer: a refresh that finds the same addresses keeps the same array.
    for (const [t, e] of this.#targets)
      if (e.expires <= now && !wanted.has(t)) {
        this.#targets.delete(t);
        for (const q of this.#questions.get(t) ?? []) this.known.delete(questionKey(q));
        this.#questions.delete(t);
      }
    let glue = this.#glue.get(reply);
    if (glue === undefined) {
      glue = indexAddresses(reply.additionals);
      this.#glue.set(reply, glue);
    }
    const out = new Map<string, Address[]>();
    const missing: string[] = [];
    const asked: string[] = []; // entries made below, when they are looked up
    for (const target of wanted) {
      const fromGlue = glue.get(target);
      const cached = this.#targets.get(target);
      if (fromGlue !== undefined) {
        const kept = this.#lastGlue.get(target);
        const addrs = kept !== undefined && sameAddresses(kept, fromGlue) ? kept : fromGlue;
        this.#lastGlue.set(target, addrs);
        out.set(target, addrs);
        continue;
      }
      asked.push(target);
      if (cached !== undefined && cached.expires > now) out.set(target, cached.addresses);
      else missing.push(target);
    }
    for (const [target, addrs] of await this.#lookUp(missing, lookUp, now)) out.set(target, addrs);
    // A target whose lookup failed keeps the addresses it had, run out or not: a busy server
    // must not make a known pod leave. Its entry stays run out, so the next run asks again.
    for (const target of missing) {
      const stale = this.#targets.get(target);
      if (!out.has(target) && stale !== undefined && stale.addresses.length > 0) out.set(target, stale.addresses);
    }
    // A target the lookup gave nothing for gets an entry already run out: asked again next time.
    const entries = asked.map((t) => {
      let e = this.#targets.get(t);
      if (e === undefined) this.#targets.set(t, (e = { addresses: [], expires: now }));
      return [t, e] as const;
    });
    this.#made.set(targets, { reply, out, asked: entries, until: this.#until(entries) });
    return out;
  }

  /** Asks for `missing` and caches what came; the same addresses as before keep the same array. */
  async #lookUp(
    missing: readonly string[],
    lookUp: (missing: readonly string[]) => Promise<Map<string, Address[]>>,
    now: number,
  ): Promise<Map<string, Address[]>> {
    if (missing.length === 0) return new Map();
    const found = await lookUp(missing);
    for (const [target, addresses] of found) {
      const entry = this.#targets.get(target);
      const old = entry?.addresses;
      const addrs = old !== undefined && sameAddresses(old, addresses) ? old : addresses;
      const ttlMs = Math.min(Math.max(addrs.length === 0 ? NEGATIVE_TTL_S : minTtl(addrs), 1), MAX_CACHE_TTL_S) * 1_000;
      // A target seen for the first time expires somewhere in the last half of its TTL, so that
      // targets that came together are not all asked again together; after that, a full TTL each time.
      const expires = now + ttlMs * (old === undefined ? 0.5 + 0.5 * this.#random() : 1);
      if (entry === undefined) this.#targets.set(target, { addresses: addrs, expires });
      else {
        entry.addresses = addrs;
        entry.expires = expires;
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
