import { byPreference, chooseAddresses } from './caps.ts';
import { MAX_ADDRESSES_PER_TARGET } from './desired.ts';
import { canonicalIP } from './ip.ts';
import { endpointKey, type Endpoint } from './types.ts';

/**
 * Endpoints that did not come from the DNS answer just read (a saved one, --state-file),
 * held to what a DNS answer is held to (makeSrvAnswer, src/dns/records.ts): each target's
 * MAX_ADDRESSES_PER_TARGET addresses chosen as DNS's are (chooseAddresses), each
 * address:port once, at most `maxEndpoints` in all, taken in the order an answer's are
 * (byPreference, then address): the same file keeps the same endpoints. Nothing is in force
 * when a file is read, so no endpoint is kept for being served. `dropped` counts what the
 * bounds left out (a repeated address:port is not counted, as in DNS).
 */
export function boundSavedEndpoints(endpoints: readonly Endpoint[], maxEndpoints: number): { kept: Endpoint[]; dropped: number } {
  const byTarget = new Map<string, Set<string>>();
  for (const e of endpoints) {
    let set = byTarget.get(e.target);
    if (set === undefined) byTarget.set(e.target, (set = new Set()));
    set.add(e.address);
  }
  const allowed = new Map<string, Set<string>>();
  for (const [target, addresses] of byTarget) {
    const chosen = chooseAddresses(
      [...addresses].map((address) => ({ address, ttl: 0 })),
      MAX_ADDRESSES_PER_TARGET,
    );
    allowed.set(target, new Set(chosen.map((a) => a.address)));
  }
  let dropped = 0;
  const taken: Endpoint[] = [];
  for (const e of endpoints) {
    if (allowed.get(e.target)?.has(e.address) === true) taken.push(e);
    else dropped++;
  }
  taken.sort((x, y) => byPreference(x, y) || (x.address < y.address ? -1 : x.address > y.address ? 1 : 0));
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
