import { canonicalIP } from './ip.ts';
import { endpointKey, type Endpoint } from './types.ts';

/** HAProxy's weight range for `set server ... weight` (0 stops new traffic; we never send 0). */
export const HAPROXY_MAX_WEIGHT = 256;

/**
 * --max-endpoints by default: the most endpoints one backend takes from an answer, and the
 * most servers (slots and added) it is given. More than a 64 KB SRV answer can hold
 * (some 3,000 records), so only an answer that multiplies (many records naming a target
 * of many addresses) reaches it.
 */
export const DEFAULT_MAX_ENDPOINTS = 4096;

/**
 * The most addresses of one SRV target that become endpoints: a pod has one A record and
 * maybe one AAAA. A name with thousands (a legal 64 KB answer holds some 4000 A records),
 * named by every SRV record, would otherwise multiply into a product no backend holds.
 */
export const MAX_ADDRESSES_PER_TARGET = 64;

/**
 * Cleans a DNS answer into the endpoints a backend wants: canonical addresses, one endpoint
 * per address:port (the lowest priority, then the highest weight wins), sorted by key so the
 * same answer always gives the same list.
 */
export function normalizeEndpoints(endpoints: readonly Endpoint[]): Endpoint[] {
  const byKey = new Map<string, Endpoint>();
  for (const raw of endpoints) {
    const e: Endpoint = { ...raw, address: canonicalIP(raw.address) };
    const key = endpointKey(e);
    const seen = byKey.get(key);
    if (seen === undefined || e.priority < seen.priority || (e.priority === seen.priority && e.weight > seen.weight)) {
      byKey.set(key, e);
    }
  }
  return sortEndpoints([...byKey.values()]);
}

/**
 * Deterministic order for placing endpoints: priority, then weight (heavier first), then
 * address, then port. Each address's sort key is made once, not in every comparison: at
 * a thousand endpoints that was most of a pass.
 */
export function sortEndpoints(endpoints: readonly Endpoint[]): Endpoint[] {
  const keyed = endpoints.map((e) => ({ e, key: addressSortKey(e.address) }));
  keyed.sort(
    (x, y) => x.e.priority - y.e.priority || y.e.weight - x.e.weight || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0) || x.e.port - y.e.port,
  );
  return keyed.map((k) => k.e);
}

/** IPv4 sorts numerically (10.0.0.9 before 10.0.0.10), then IPv6 as text. */
function addressSortKey(a: string): string {
  if (a.includes(':')) return `1${a}`;
  return `0${a
    .split('.')
    .map((o) => o.padStart(3, '0'))
    .join('.')}`;
}

/**
 * SRV weights -> HAProxy weights, proportionally, the heaviest endpoint getting 256.
 * Kubernetes publishes every record of a service with the same weight (a value that depends
 * on the number of pods), so equal weights must always map to the same number: a scale
 * event then writes no weight at all. A zero weight (RFC 2782: "very small chance") gets 1.
 */
export function haproxyWeights(endpoints: readonly Endpoint[]): Map<string, number> {
  let max = 0;
  for (const e of endpoints) max = Math.max(max, e.weight);
  const out = new Map<string, number>();
  for (const e of endpoints) {
    const w = max === 0 ? HAPROXY_MAX_WEIGHT : Math.round((e.weight * HAPROXY_MAX_WEIGHT) / max);
    out.set(endpointKey(e), Math.min(HAPROXY_MAX_WEIGHT, Math.max(1, w)));
  }
  return out;
}

/** Endpoints split by SRV priority: the preferred group, and the rest in priority order. */
export function splitByPriority(endpoints: readonly Endpoint[]): {
  primary: Endpoint[];
  secondary: Endpoint[];
} {
  if (endpoints.length === 0) return { primary: [], secondary: [] };
  const best = bestPriority(endpoints);
  return {
    primary: endpoints.filter((e) => e.priority === best),
    secondary: endpoints.filter((e) => e.priority !== best),
  };
}

/** The most preferred (lowest) SRV priority among endpoints; Infinity when there are none. */
export function bestPriority(endpoints: readonly Endpoint[]): number {
  let best = Infinity;
  for (const e of endpoints) best = Math.min(best, e.priority);
  return best;
}
