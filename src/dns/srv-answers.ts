import { indexInForce, targetsToAsk } from '../core/caps.ts';
import type { Endpoint } from '../core/types.ts';
import type { AnswerBody, DnsAnswer, Generations } from './answer.ts';
import type { Found } from './names.ts';
import { indexAddresses, makeSrvAnswer, readSrv, type Address, type SrvRead } from './records.ts';
import type { Addresses, Wanted } from './target-cache.ts';

/** The targets whose addresses a record's answer is made of: all of them, or past the cap those worth asking (targetsToAsk). */
type Asked = Readonly<{
  /** The read they were chosen from (its generation). */
  read: number;
  /** The endpoints in force they were chosen against (past the cap only). */
  inForce: readonly Endpoint[] | null;
  targets: readonly string[];
  considered: ReadonlySet<string> | null;
  /** Changes whenever the targets do. */
  generation: number;
}>;

/** What the answer kept for a record was made of: the generations of its read, its targets and their addresses, and the endpoints in force. */
type MadeFrom = Readonly<{ read: number; asked: number; addresses: number; inForce: readonly Endpoint[] | null }>;

/**
 * What an SRV record's answer is made of: the reply it was read from (the asker's
 * generation) and its additional section's addresses, what its records say (`read`, with a
 * generation that changes when they do), the targets asked, and the answer kept.
 */
type Made = {
  reply: number;
  glue: ReadonlyMap<string, Address[]>;
  read: SrvRead;
  readGeneration: number;
  asked: Asked | null;
  answer: DnsAnswer | null;
  from: MadeFrom | null;
};

/**
 * The answers of the SRV records the agent follows, made in steps the resolver takes in
 * turn: `read` what a reply's records say, the targets `wanted` for the answer, `make` the
 * answer from their addresses, `keep` it. Each step compares generations, not objects: what
 * did not change is neither read nor made again, and the answer kept is handed back while
 * what it is made of says the same.
 */
export class SrvAnswers {
  /** Per SRV record (its name as configured). */
  readonly #made = new Map<string, Made>();
  /** The last generation given to a read or to a choice of targets. */
  #generation = 0;
  /** The answers' generations, shared with the resolver's other answers. */
  readonly #answers: Generations;

  constructor(generations: Generations) {
    this.#answers = generations;
  }

  /** The answer kept for `record` from what its records say now, null before any (or since they changed). */
  last(record: string): DnsAnswer | null {
    return this.#made.get(record)?.answer ?? null;
  }

  /** How many records have an answer made (for the caches' sizes). */
  get size(): number {
    return this.#made.size;
  }

  /**
   * What `found`'s records say, read once per reply (`found.generation`); `changed` when
   * they say something else than the records last read for `record` said. Servers rotate
   * the records of an answer (BIND does by default): the same records in another order say
   * the same.
   */
  read(record: string, found: Found): Readonly<{ read: SrvRead; changed: boolean }> {
    const made = this.#made.get(record);
    if (made?.reply === found.generation) return { read: made.read, changed: false };
    const read = readSrv(found.name, found.records);
    const glue = indexAddresses(found.reply.additionals);
    if (made?.read.signature === read.signature) {
      made.reply = found.generation;
      made.glue = glue;
      return { read: made.read, changed: false };
    }
    const readGeneration = ++this.#generation;
    this.#made.set(record, { reply: found.generation, glue, read, readGeneration, asked: null, answer: null, from: null });
    return { read, changed: true };
  }

  /**
   * The targets whose addresses `record`'s answer is made of, and its additional section:
   * all the targets, or past the cap those it could take (those in force first:
   * targetsToAsk), so that a run's work stays bounded by the cap. Read first.
   */
  wanted(record: string, inForce: readonly Endpoint[] | null, max: number): Wanted {
    const made = this.#made.get(record);
    if (made === undefined) throw new TypeError(`${record}: wanted() before read()`);
    const capped = made.read.ordered.length > max;
    let asked = made.asked;
    if (asked?.read !== made.readGeneration || (capped && !sameInForce(asked.inForce, inForce))) {
      const considered = capped ? targetsToAsk(made.read.ordered, inForce === null ? null : indexInForce(inForce), max) : null;
      asked =
        asked?.read === made.readGeneration && sameSet(asked.considered, considered)
          ? { ...asked, inForce }
          : {
              read: made.readGeneration,
              inForce,
              considered,
              targets: considered === null ? made.read.targets : Array.from(considered),
              generation: ++this.#generation,
            };
      made.asked = asked;
    }
    return { targets: asked.targets, targetsFrom: asked.generation, glue: made.glue, glueFrom: made.reply };
  }

  /**
   * The answer `record`'s records and their targets' `addresses` make, for the name the
   * answer came for: the answer kept (its generation) while what it is made of says the
   * same; made again, a new generation, otherwise, and for a capped answer when the
   * endpoints in force changed (they keep their places), in which case it stays the one
   * kept if it says the same.
   */
  make(record: string, name: string, addresses: Addresses, inForce: readonly Endpoint[] | null, max: number): DnsAnswer {
    const made = this.#made.get(record);
    if (made?.asked == null) throw new TypeError(`${record}: make() before wanted()`);
    const { answer: kept, from, asked } = made;
    const make = (): AnswerBody =>
      makeSrvAnswer(name, made.read, addresses.map, max, inForce === null ? null : indexInForce(inForce), asked.considered);
    if (
      kept === null ||
      from === null ||
      from.read !== made.readGeneration ||
      from.asked !== asked.generation ||
      from.addresses !== addresses.version
    )
      return this.#answers.stamp(make());
    const capped = kept.status === 'ok' && (kept.dropped ?? 0) > 0;
    if (!capped || sameInForce(from.inForce, inForce)) return kept;
    const next = make();
    return sameAnswer(kept, next) ? kept : this.#answers.stamp(next);
  }

  /** Keeps `answer` as `record`'s, made of `addresses` against `inForce`. */
  keep(record: string, answer: DnsAnswer, addresses: Addresses, inForce: readonly Endpoint[] | null): DnsAnswer {
    const made = this.#made.get(record);
    if (made?.asked == null) return answer;
    made.answer = answer;
    made.from = { read: made.readGeneration, asked: made.asked.generation, addresses: addresses.version, inForce };
    return answer;
  }
}

/** The endpoints in force as the caps read them: each target, address and port, in order. */
function sameInForce(a: readonly Endpoint[] | null, b: readonly Endpoint[] | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  return a.every((e, i) => {
    const o = b[i];
    return o !== undefined && e.target === o.target && e.address === o.address && e.port === o.port;
  });
}

/** Two answers that give the same endpoints (the same address, port, weight and priority each), whatever their order. */
function sameAnswer(a: AnswerBody, b: AnswerBody): boolean {
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
