import type { Reply } from './message.ts';
import type { KnownReplies } from './pipeline.ts';
import { indexAddresses, sameAddresses, type Address } from './records.ts';

/** How long "no address" for a target is remembered, and the longest any is. */
const NEGATIVE_TTL_S = 5;
const MAX_CACHE_TTL_S = 300;

type Made = Readonly<{ reply: Reply; out: Map<string, Address[]>; until: number }>;

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
  readonly #targets = new Map<string, { addresses: Address[]; expires: number }>();
  /** The last reply to each target's A/AAAA question, to skip decoding the same bytes again. */
  readonly known: KnownReplies = new Map();
  /** Target -> the additional-section addresses last used for it. */
  readonly #lastGlue = new Map<string, Address[]>();
  /** The additional section of each answer kept, indexed once. */
  readonly #glue = new WeakMap<Reply, Map<string, Address[]>>();
  /** Per list of targets (the same array while the SRV records are the same): the last map made, and until when it holds. */
  readonly #made = new WeakMap<readonly string[], Made>();

  constructor(now: () => number, random: () => number) {
    this.#now = now;
    this.#random = random;
  }

  async addresses(
    targets: readonly string[],
    reply: Reply,
    lookUp: (missing: readonly string[]) => Promise<Map<string, Address[]>>,
  ): Promise<Map<string, Address[]>> {
    const now = this.#now();
    const made = this.#made.get(targets);
    if (made !== undefined && made.reply === reply && now < made.until) return made.out;
    const wanted = new Set(targets);
    // An expired entry stays while its target is in the answer: a refresh that finds the same addresses keeps the same array.
    for (const [t, e] of this.#targets)
      if (e.expires <= now && !wanted.has(t)) {
        this.#targets.delete(t);
        this.known.delete(`A ${t}`);
        this.known.delete(`AAAA ${t}`);
      }
    let glue = this.#glue.get(reply);
    if (glue === undefined) {
      glue = indexAddresses(reply.additionals);
      this.#glue.set(reply, glue);
    }
    const out = new Map<string, Address[]>();
    const missing: string[] = [];
    let until = Infinity;
    for (const target of wanted) {
      const fromGlue = glue.get(target);
      const cached = this.#targets.get(target);
      if (fromGlue !== undefined) {
        const kept = this.#lastGlue.get(target);
        const addrs = kept !== undefined && sameAddresses(kept, fromGlue) ? kept : fromGlue;
        this.#lastGlue.set(target, addrs);
        out.set(target, addrs);
      } else if (cached !== undefined && cached.expires > now) {
        out.set(target, cached.addresses);
        until = Math.min(until, cached.expires);
      } else missing.push(target);
    }
    for (const [target, found] of missing.length === 0 ? [] : await lookUp(missing)) {
      const old = this.#targets.get(target)?.addresses;
      const addrs = old !== undefined && sameAddresses(old, found) ? old : found;
      const ttlMs =
        Math.min(Math.max(addrs.length === 0 ? NEGATIVE_TTL_S : Math.min(...addrs.map((x) => x.ttl)), 1), MAX_CACHE_TTL_S) * 1_000;
      // A target seen for the first time expires somewhere in the last half of its TTL, so that
      // targets that came together are not all asked again together; after that, a full TTL each time.
      const expires = now + ttlMs * (old === undefined ? 0.5 + 0.5 * this.#random() : 1);
      this.#targets.set(target, { addresses: addrs, expires });
      out.set(target, addrs);
      until = Math.min(until, expires);
    }
    // A target the lookup gave nothing for is asked again next time.
    if (missing.some((t) => !out.has(t))) until = now;
    this.#made.set(targets, { reply, out, until });
    return out;
  }
}
