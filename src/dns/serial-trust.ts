/**
 * When an unchanged zone serial may stand in for asking a record again (--serial-trust),
 * as a secondary server trusts its primary's SOA: at 1000 pods a pass then costs one SOA
 * question instead of a 60 KB SRV answer and hundreds of target addresses.
 *
 * The serial is trusted for a name only when all of these hold:
 * - it has been seen to move (a server whose serial never moves, as some hosted DNS
 *   services keep it at 1, is never trusted), and it never stood still while the records
 *   changed (then it is not trusted again);
 * - the SOA came with the authoritative bit, and every SRV target lies in its zone;
 * - the full answer in force was asked once the serial had stood `settle` (its records'
 *   longest TTL plus 2 s): CoreDNS's serial is the second of its last change, so a
 *   second change in that second does not move it, and a cache in front may serve
 *   records older than the SOA it serves, for up to their TTL;
 * - a serial read after that ask said the same, no more than `freshMs` ago;
 * - that ask was less than `maxMs` ago: the record is asked again at least that often
 *   (and everything asked when its answer differs).
 * Any other serial read drops the trust until a new full answer is asked.
 */

import type { DnsAnswer } from './answer.ts';
import type { Address, SrvRead } from './records.ts';

/** One read of a zone's SOA. */
export type SerialReading = Readonly<{
  serial: number;
  /** The zone's name (the SOA's owner), normalized. */
  zone: string;
  /** The SOA record's TTL, seconds. */
  ttl: number;
  authoritative: boolean;
}>;

/**
 * A zone's serial as the status page says it: the last read (null: none came yet), and
 * whether an unchanged serial stands for the name's records, or why not, in words.
 */
export type SerialView = Readonly<{ serial: number | null; trusted: boolean; why: string | null }>;

/** What a full ask began from, for done(). */
export type AskTicket = Readonly<{ name: string; at: number; serial: number | null }>;

type Seen = { reading: SerialReading; at: number; since: number };
type Covered = { serial: number | null; askedAt: number; endpoints: string; inZone: boolean; settleMs: number };

const SETTLE_MARGIN_MS = 2_000;

export class SerialTrust {
  readonly #maxMs: number;
  readonly #freshMs: number;
  readonly #seen = new Map<string, Seen>();
  readonly #covered = new Map<string, Covered>();
  /** Names whose serial has moved at least once. */
  readonly #moved = new Set<string>();
  /** Names whose serial stood still while their records changed. */
  readonly #distrusted = new Set<string>();

  constructor(o: Readonly<{ maxMs: number; freshMs: number }>) {
    this.#maxMs = o.maxMs;
    this.#freshMs = o.freshMs;
  }

  get enabled(): boolean {
    return this.#maxMs > 0;
  }

  /** The serial is read between runs (--watch): a run does not read it itself. */
  get watched(): boolean {
    return this.#freshMs > 0;
  }

  /** A serial read for `name`, taken at `at` (when the question left); null: no serial came. */
  read(name: string, reading: SerialReading | null, at: number): void {
    if (reading === null) return;
    const seen = this.#seen.get(name);
    if (seen?.reading.serial === reading.serial) {
      seen.reading = reading;
      seen.at = Math.max(seen.at, at);
      return;
    }
    if (seen !== undefined) this.#moved.add(name);
    this.#seen.set(name, { reading, at, since: at });
    const covered = this.#covered.get(name);
    if (covered !== undefined) covered.serial = null; // the zone changed after that ask
  }

  /** A serial read for `name` younger than `freshMs` is at hand. */
  fresh(name: string, now: number): boolean {
    const seen = this.#seen.get(name);
    return seen !== undefined && now - seen.at <= this.#freshMs;
  }

  /**
   * Whether the full answer in force for `name` still stands as of `now` (a pass's start:
   * a serial read after it counts): `stands`, no question needed; `verify`, it would but
   * for its age, so the record itself is asked again (its targets' addresses need not be
   * while it says the same); `ask`, ask it all.
   */
  check(name: string, now: number): 'stands' | 'verify' | 'ask' {
    const seen = this.#seen.get(name);
    const covered = this.#covered.get(name);
    if (!this.enabled || seen === undefined || covered === undefined) return 'ask';
    const holds =
      this.#moved.has(name) &&
      !this.#distrusted.has(name) &&
      covered.inZone &&
      seen.reading.authoritative &&
      covered.serial === seen.reading.serial &&
      seen.at > covered.askedAt &&
      now - seen.at <= this.#freshMs;
    if (!holds) return 'ask';
    return now - covered.askedAt < this.#maxMs ? 'stands' : 'verify';
  }

  /** A full ask of `name` begins at `now`. */
  begin(name: string, now: number): AskTicket {
    const seen = this.#seen.get(name);
    const settleMs = this.#covered.get(name)?.settleMs ?? Infinity;
    const settled =
      seen !== undefined &&
      now - seen.at <= this.#freshMs &&
      now - seen.since >= Math.max(settleMs, seen.reading.ttl * 1_000 + SETTLE_MARGIN_MS);
    return { name, at: now, serial: settled ? seen.reading.serial : null };
  }

  /**
   * A full ask ended. `endpoints` is a canonical text of what it gave (TTLs aside),
   * `targets` the SRV targets and `maxTtl` the longest TTL among its records (seconds).
   */
  done(t: AskTicket, a: Readonly<{ endpoints: string; targets: readonly string[]; maxTtl: number }>): void {
    if (!this.enabled) return;
    const before = this.#covered.get(t.name);
    // The serial said nothing changed since the last answer, yet the records did: it does not follow them.
    if (before?.serial !== null && before?.serial === t.serial && before.endpoints !== a.endpoints) this.#distrusted.add(t.name);
    const zone = this.#seen.get(t.name)?.reading.zone;
    const inZone = zone !== undefined && a.targets.every((x) => x === zone || zone === '' || x.endsWith(`.${zone}`));
    this.#covered.set(t.name, {
      serial: t.serial,
      askedAt: t.at,
      endpoints: a.endpoints,
      inZone,
      settleMs: Math.max(before?.settleMs ?? 0, a.maxTtl * 1_000 + SETTLE_MARGIN_MS),
    });
  }

  /** `name` gave no records: nothing stands for it until a full answer does. */
  forget(name: string): void {
    this.#covered.delete(name);
  }

  /** Forgets every name but `names` (those the answers in force came for): a CNAME to a new name each answer leaves nothing behind. */
  keep(names: ReadonlySet<string>): void {
    for (const map of [this.#seen, this.#covered]) for (const name of map.keys()) if (!names.has(name)) map.delete(name);
    for (const set of [this.#moved, this.#distrusted]) for (const name of set) if (!names.has(name)) set.delete(name);
  }

  /** How many names each of its tables holds, for tests and the benchmark. */
  sizes(): Readonly<{ seen: number; covered: number; moved: number; distrusted: number }> {
    return { seen: this.#seen.size, covered: this.#covered.size, moved: this.#moved.size, distrusted: this.#distrusted.size };
  }

  /**
   * `name`'s serial, and whether it stands for the records as of `now` (check()'s conditions,
   * but the age of the full answer in force, past which the record is asked anyway); null
   * when serials are not read at all (neither --watch nor --serial-trust).
   */
  view(name: string, now: number): SerialView | null {
    if (!this.enabled && !this.watched) return null;
    const seen = this.#seen.get(name);
    const serial = seen?.reading.serial ?? null;
    const not = (why: string): SerialView => ({ serial, trusted: false, why });
    if (!this.enabled) return not('--serial-trust is off: the record is asked every run');
    if (seen === undefined) return not('no serial read yet');
    if (this.#distrusted.has(name)) return not('it stood still while the records changed');
    if (!this.#moved.has(name)) return not('not seen to move yet');
    if (!seen.reading.authoritative) return not('the SOA came without the authoritative bit');
    const covered = this.#covered.get(name);
    if (covered === undefined) return not('no full answer asked under it yet');
    if (!covered.inZone) return not('an SRV target lies outside the zone');
    if (covered.serial !== seen.reading.serial || seen.at <= covered.askedAt)
      return not('the answer in force was not asked under this serial once it had settled');
    if (now - seen.at > this.#freshMs) return not('no fresh read of it');
    return { serial, trusted: true, why: null };
  }

  /** Whether `name`'s serial was found not to follow its records. */
  distrusted(name: string): boolean {
    return this.#distrusted.has(name);
  }
}

/** Each answer's endpoints as one text (TTLs aside), made once per answer: the answer kept is handed back while its records say the same. */
const texts = new WeakMap<DnsAnswer, string>();

/** What the trust compares and bounds an SRV answer by: its endpoints as text, its targets, its longest TTL. */
export function trustFacts(
  answer: DnsAnswer,
  read: SrvRead,
  addresses: ReadonlyMap<string, readonly Address[]>,
): Parameters<SerialTrust['done']>[1] {
  let text = texts.get(answer);
  if (text === undefined) {
    const key = (e: { address: string; port: number; weight: number; priority: number }): string =>
      `${e.address} ${String(e.port)} ${String(e.weight)} ${String(e.priority)}`;
    text = answer.status === 'ok' ? answer.endpoints.map(key).sort().join(',') : answer.status;
    texts.set(answer, text);
  }
  let maxTtl = 0;
  for (const srv of read.usable) maxTtl = Math.max(maxTtl, srv.ttl ?? 0);
  for (const list of addresses.values()) for (const a of list) maxTtl = Math.max(maxTtl, a.ttl);
  return { endpoints: text, targets: read.targets, maxTtl };
}
