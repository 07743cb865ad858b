import { canonicalIP } from './ip.ts';
import { endpointKey, type Endpoint } from './types.ts';

/**
 * Which endpoints an answer gives when it gives more than a backend takes (--max-endpoints,
 * and MAX_ADDRESSES_PER_TARGET addresses of one SRV target): the endpoints in force keep
 * their places, and newcomers fill the room left, in preference order. A newcomer never
 * displaces a live endpoint: a pod whose name sorts first appearing at the cap must not
 * drain a pod still in DNS, whose sticky clients would lose their server. With nothing in
 * force (a first answer), the preference order alone decides: the same records give the
 * same endpoints in whatever order they came.
 */

/** One usable SRV record, its target normalized. */
export type SrvChoice = Readonly<{ target: string; port: number; weight: number; priority: number; ttl: number }>;

/**
 * The order endpoints are taken in past a bound: SRV priority, then weight (heavier
 * first), then target and port. Records of one answer and endpoints of a saved one alike.
 */
export function byPreference(x: Omit<SrvChoice, 'ttl'>, y: Omit<SrvChoice, 'ttl'>): number {
  return x.priority - y.priority || y.weight - x.weight || byText(x.target, y.target) || x.port - y.port;
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** One address of a target, with its TTL. */
export type TargetAddress = Readonly<{ address: string; ttl: number }>;

export type Capped = Readonly<{
  endpoints: Endpoint[];
  /** One per record and address the bounds left out. */
  dropped: number;
  /** The lowest TTL of the addresses taken (Infinity when none was). */
  ttl: number;
}>;

/** The endpoints in force, indexed for the caps: by key, by target and port, and each target's addresses. */
export type InForce = Readonly<{
  keys: ReadonlySet<string>;
  byRecord: ReadonlyMap<string, readonly string[]>;
  byTarget: ReadonlyMap<string, ReadonlySet<string>>;
  size: number;
}>;

/** Indexes the endpoints in force (their addresses canonical, as the lanes keep them). */
export function indexInForce(endpoints: readonly Endpoint[]): InForce {
  const keys = new Set<string>();
  const byRecord = new Map<string, string[]>();
  const byTarget = new Map<string, Set<string>>();
  for (const e of endpoints) {
    const address = canonicalIP(e.address);
    keys.add(endpointKey({ address, port: e.port }));
    const record = recordKey(e.target, e.port);
    const list = byRecord.get(record);
    if (list === undefined) byRecord.set(record, [address]);
    else list.push(address);
    const set = byTarget.get(e.target);
    if (set === undefined) byTarget.set(e.target, new Set([address]));
    else set.add(address);
  }
  return { keys, byRecord, byTarget, size: endpoints.length };
}

const recordKey = (target: string, port: number): string => `${target} ${String(port)}`;

/**
 * At most `n` of `addrs`: those in `inForce` (canonical addresses) first, then the others in
 * address order (the order they came in does not count).
 */
export function chooseAddresses<T extends TargetAddress>(addrs: readonly T[], n: number, inForce?: ReadonlySet<string>): readonly T[] {
  const sorted = [...addrs].sort((x, y) => (x.address < y.address ? -1 : x.address > y.address ? 1 : 0));
  if (sorted.length <= n) return sorted;
  if (inForce === undefined || inForce.size === 0) return sorted.slice(0, n);
  const kept = sorted.filter((a) => inForce.has(canonicalIP(a.address)));
  if (kept.length >= n) return kept.slice(0, n);
  for (const a of sorted) {
    if (kept.length >= n) break;
    if (!inForce.has(canonicalIP(a.address))) kept.push(a);
  }
  return kept;
}

/**
 * The endpoints of SRV records taken in preference order (`records`), with each target's
 * addresses (`addressesOf`, already bounded per target by chooseAddresses): at most `max`,
 * each address:port once (its first record by preference decides its weight), those in
 * force first. Work stays bounded by the records, the endpoints in force and `max`, however
 * many addresses the records multiply into.
 */
export function capEndpoints(
  records: readonly SrvChoice[],
  addressesOf: (target: string) => readonly TargetAddress[],
  inForce: InForce | null,
  max: number,
): Capped {
  const endpoints: Endpoint[] = [];
  const seen = new Set<string>();
  /** Per record (by index): how many of its addresses the first pass took. */
  const early = new Map<number, number>();
  let ttl = Infinity;
  const take = (r: SrvChoice, a: TargetAddress, key: string): void => {
    seen.add(key);
    ttl = Math.min(ttl, a.ttl);
    endpoints.push({ target: r.target, address: a.address, port: r.port, weight: r.weight, priority: r.priority, ttl: r.ttl });
  };
  // First the endpoints in force that the answer still gives, by the records that give them.
  if (inForce !== null && inForce.size > 0) {
    records.forEach((r, i) => {
      const wanted = inForce.byRecord.get(recordKey(r.target, r.port));
      if (wanted === undefined || endpoints.length >= max) return;
      let n = 0;
      for (const a of addressesOf(r.target)) {
        if (endpoints.length >= max) break;
        const key = endpointKey({ address: canonicalIP(a.address), port: r.port });
        if (!inForce.keys.has(key) || seen.has(key)) continue;
        take(r, a, key);
        n++;
      }
      if (n > 0) early.set(i, n);
    });
  }
  // Then newcomers, in preference order, while there is room.
  let dropped = 0;
  records.forEach((r, i) => {
    const addrs = addressesOf(r.target);
    if (endpoints.length >= max) {
      dropped += addrs.length - (early.get(i) ?? 0);
      return;
    }
    for (const [k, a] of addrs.entries()) {
      const key = endpointKey({ address: canonicalIP(a.address), port: r.port });
      if (seen.has(key)) continue;
      if (endpoints.length >= max) {
        for (const rest of addrs.slice(k)) if (!seen.has(endpointKey({ address: canonicalIP(rest.address), port: r.port }))) dropped++;
        break;
      }
      take(r, a, key);
    }
  });
  return { endpoints, dropped, ttl };
}

/** Newcomer targets asked past the room left at the cap: a few that turn out to have no address must not leave the room empty. */
export const LOOKUP_SPARE = 16;

/**
 * The targets worth asking the addresses of, when the records are more than `max` (null:
 * no more, ask them all): those of endpoints in force, then newcomers in preference order,
 * as many as the room left (and LOOKUP_SPARE). The work of a run stays bounded by the cap,
 * not by how many records an answer holds.
 */
export function targetsToAsk(records: readonly SrvChoice[], inForce: InForce | null, max: number): Set<string> | null {
  if (records.length <= max) return null;
  const out = new Set<string>();
  if (inForce !== null) for (const r of records) if (inForce.byTarget.has(r.target)) out.add(r.target);
  let room = Math.max(0, max - (inForce?.size ?? 0)) + LOOKUP_SPARE;
  for (const r of records) {
    if (room <= 0) break;
    if (out.has(r.target)) continue;
    out.add(r.target);
    room--;
  }
  return out;
}
