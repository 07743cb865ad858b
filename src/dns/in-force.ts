/**
 * What each SRV record's last resolve went through: the names asked on the way (its search
 * list's candidates, the CNAME links) and the name its answer came for. The caches keyed by
 * names DNS said keep these and forget the rest, as Unbound's and CoreDNS's caches evict:
 * what they hold is bounded by what the answers in force name, however many names DNS has
 * said before (a CNAME to a new name each answer, a pod's own name for each pod).
 */
export class NamesInForce {
  readonly #byRecord = new Map<string, Readonly<{ good: readonly string[]; failed: readonly string[]; answer: string | null }>>();

  /**
   * A resolve of `record` asked `asked`, and gave an answer for the name `answer`; null: it
   * failed, and what the last answer went through stays in force beside what this one asked
   * (a transient fault must not cost what is known). True when the names in force changed.
   */
  settle(record: string, asked: readonly string[], answer: string | null): boolean {
    const before = this.#byRecord.get(record);
    const next =
      answer === null ? { good: before?.good ?? [], failed: asked, answer: before?.answer ?? null } : { good: asked, failed: [], answer };
    if (before !== undefined && same(before.good, next.good) && same(before.failed, next.failed) && before.answer === next.answer)
      return false;
    this.#byRecord.set(record, next);
    return true;
  }

  /** Every name asked on the way to the answers in force (and by the failed resolves since). */
  asked(): Set<string> {
    const out = new Set<string>();
    for (const r of this.#byRecord.values()) {
      for (const name of r.good) out.add(name);
      for (const name of r.failed) out.add(name);
    }
    return out;
  }

  /** The names the answers in force came for. */
  answers(): Set<string> {
    const out = new Set<string>();
    for (const r of this.#byRecord.values()) if (r.answer !== null) out.add(r.answer);
    return out;
  }
}

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
