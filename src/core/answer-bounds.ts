import { MAX_ADDRESSES_PER_TARGET } from './desired.ts';
import { canonicalIP } from './ip.ts';
import { endpointKey, type Endpoint } from './types.ts';

/**
 * Endpoints that did not come from the DNS answer just read (a saved one, --state-file),
 * held to what a DNS answer is held to (makeSrvAnswer, src/dns/records.ts): each target's
 * first MAX_ADDRESSES_PER_TARGET addresses (in address order), each address:port once, at
 * most `maxEndpoints` in all, taken by priority, weight (heavier first), target, port and
 * address: the same file keeps the same endpoints. `dropped` counts what the bounds left
 * out (a repeated address:port is not counted, as in DNS).
 */
export function capEndpoints(endpoints: readonly Endpoint[], maxEndpoints: number): { kept: Endpoint[]; dropped: number } {
  const byTarget = new Map<string, Set<string>>();
  for (const e of endpoints) {
    let set = byTarget.get(e.target);
    if (set === undefined) byTarget.set(e.target, (set = new Set()));
    set.add(e.address);
  }
  const allowed = new Map<string, Set<string>>();
  for (const [target, addresses] of byTarget) {
    allowed.set(target, new Set([...addresses].sort(byText).slice(0, MAX_ADDRESSES_PER_TARGET)));
  }
  let dropped = 0;
  const taken: Endpoint[] = [];
  for (const e of endpoints) {
    if (allowed.get(e.target)?.has(e.address) === true) taken.push(e);
    else dropped++;
  }
  taken.sort(
    (x, y) =>
      x.priority - y.priority || y.weight - x.weight || byText(x.target, y.target) || x.port - y.port || byText(x.address, y.address),
  );
  const kept: Endpoint[] = [];
  const seen = new Set<string>();
  for (const e of taken) {
    const key = endpointKey({ address: canonicalIP(e.address), port: e.port });
    if (seen.has(key)) continue;
    if (kept.length >= maxEndpoints) {
      dropped++;
      continue;
    }
    seen.add(key);
    kept.push(e);
  }
  return { kept, dropped };
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
