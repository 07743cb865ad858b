import type { Answer, RecordType } from 'dns-packet';
import { isHostname, presentName } from '../core/names.ts';
import { DnsError } from '../errors.ts';
import { DEFAULT_MAX_ENDPOINTS, MAX_ADDRESSES_PER_TARGET } from '../core/desired.ts';
import { byPreference, capEndpoints, chooseAddresses, type InForce, type SrvChoice } from '../core/caps.ts';
import { isIPAddress } from '../core/ip.ts';
import { endpointKey } from '../core/types.ts';
import { OVER_CAP_SAMPLE, type AnswerBody } from './answer.ts';
import { normalizeName, type Reply } from './message.ts';
import type { SerialReading } from './serial-trust.ts';

/** Reading what came back: the records of a name through its CNAMEs, the addresses among them. */

export type Address = { address: string; ttl: number };

/** CNAME links followed within an answer and across queries (glibc follows up to 16). */
export const MAX_CNAME = 8;

export async function inBatches<T>(items: readonly T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

/**
 * How the try that brought a question's answer is counted (dns_queries_total's result): its
 * status; an SOA question's as `soa` when a zone serial came, else as its rcode.
 */
export function answeredAs(type: RecordType, reply: Reply): string {
  if (type !== 'SOA') return statusOf(reply);
  return soaReading(reply) === null ? reply.rcode.toLowerCase() : 'soa';
}

/** The zone's SOA a reply holds (in the answer at the apex, in the authority section below it), null when it holds none. */
export function soaReading(r: Reply): SerialReading | null {
  const soa = r.answers.find((a) => a.type === 'SOA') ?? r.authorities?.find((a) => a.type === 'SOA');
  if (soa?.type !== 'SOA' || typeof soa.data.serial !== 'number') return null;
  return { serial: soa.data.serial, zone: normalizeName(soa.name), ttl: soa.ttl ?? 0, authoritative: r.authoritative === true };
}

export function statusOf(reply: Reply): 'ok' | 'nxdomain' | 'nodata' | 'servfail' | 'refused' | 'error' {
  switch (reply.rcode) {
    case 'NOERROR':
      return reply.answers.length > 0 ? 'ok' : 'nodata';
    case 'NXDOMAIN':
      return 'nxdomain';
    case 'SERVFAIL':
      return 'servfail';
    case 'REFUSED':
      return 'refused';
    default:
      return 'error';
  }
}

/** The records of `type` for `name` in an answer section, through its CNAMEs. */
export function followChain(answers: readonly Answer[], name: string, type: RecordType): { name: string; records: Answer[] } {
  let current = name;
  for (let hop = 0; hop <= MAX_CNAME; hop++) {
    const records = answers.filter((r) => r.type === type && normalizeName(r.name) === current);
    if (records.length > 0) return { name: current, records };
    const cname = answers.find((r) => r.type === 'CNAME' && normalizeName(r.name) === current);
    if (cname?.type !== 'CNAME') return { name: current, records: [] };
    if (!isHostname(cname.data)) {
      throw new DnsError('malformed', `${name}: CNAME to ${presentName(cname.data)}, which is not a host name (refused)`);
    }
    current = normalizeName(cname.data);
  }
  throw new DnsError('malformed', `CNAME loop at ${name}`);
}

/** The additional section's A/AAAA records, by owner name: looked up once per target, not scanned. */
export function indexAddresses(records: readonly Answer[]): Map<string, Address[]> {
  const out = new Map<string, Address[]>();
  for (const r of records) {
    if ((r.type !== 'A' && r.type !== 'AAAA') || !isIPAddress(r.data)) continue;
    const name = normalizeName(r.name);
    const list = out.get(name);
    const a = { address: r.data, ttl: r.ttl ?? 0 };
    if (list === undefined) out.set(name, [a]);
    else list.push(a);
  }
  return out;
}

export function addressesIn(records: readonly Answer[], name: string): Address[] {
  const out: Address[] = [];
  for (const r of records) {
    if ((r.type === 'A' || r.type === 'AAAA') && normalizeName(r.name) === name && isIPAddress(r.data)) {
      out.push({ address: r.data, ttl: r.ttl ?? 0 });
    }
  }
  return out;
}

/** What an SRV answer's records say before any address is known. */
export type SrvRead = Readonly<{
  usable: readonly Extract<Answer, { type: 'SRV' }>[];
  /** The usable records' targets, normalized, in the same order. */
  targets: readonly string[];
  /** The usable records in the order their endpoints are taken: priority, weight (heavier first), target, port. */
  ordered: readonly SrvChoice[];
  notes: readonly string[];
  refusedNames: readonly string[];
  ttl: number;
  /** What the records say, whatever their order: equal signatures, equal answers. */
  signature: string;
}>;

export function readSrv(name: string, records: readonly Answer[]): SrvRead {
  const srvs = records.flatMap((r) => (r.type === 'SRV' ? [r] : []));
  const notes: string[] = [];
  const refusedNames: string[] = [];
  const usable = srvs.filter((srv) => {
    const target = normalizeName(srv.data.target);
    if (!isHostname(target)) {
      // Any byte may stand in a label: such a target never becomes a server, nor reaches a terminal raw.
      refusedNames.push(presentName(srv.data.target));
      return false;
    }
    if (srv.data.port === 0) notes.push(`SRV ${name}: skipped record with target ${target} port 0`);
    return srv.data.port !== 0;
  });
  const ttl = minTtl(srvs.map((r) => ({ ttl: r.ttl ?? 0 })));
  const signature = srvs
    .map(
      (r) => `${String(r.data.priority ?? 0)} ${String(r.data.weight ?? 0)} ${String(r.data.port)} ${r.data.target} ${String(r.ttl ?? 0)}`,
    )
    .sort()
    .join('\n');
  const targets = usable.map((srv) => normalizeName(srv.data.target));
  return { usable, targets, ordered: inPreferenceOrder(usable, targets), notes, refusedNames, ttl, signature };
}

/** The lowest TTL of a list (Infinity when empty), in a loop: a list from DNS may hold thousands. */
export function minTtl(list: readonly Readonly<{ ttl: number }>[]): number {
  let ttl = Infinity;
  for (const x of list) ttl = Math.min(ttl, x.ttl);
  return ttl;
}

/** The same addresses in the same order (TTLs aside). */
export function sameAddresses(a: readonly Address[], b: readonly Address[]): boolean {
  return a.length === b.length && a.every((x, i) => x.address === b[i]?.address);
}

/**
 * The answer an SRV read and its targets' addresses make: one endpoint per address of each
 * usable record, each address:port once, at most `maxEndpoints` of them (--max-endpoints)
 * and at most MAX_ADDRESSES_PER_TARGET addresses per target. Past a bound, the endpoints
 * in force (`inForce`) keep their places and newcomers fill the room left, taken by
 * priority, then weight (heavier first), then target and port, each target's addresses in
 * address order (src/core/caps.ts): the same records keep the same endpoints in whatever
 * order they came. `considered`: the targets looked up (null: all); the records of the
 * others are left out. What the bounds left out is counted, never made: `dropped`, one per
 * record and address not taken (one per record of a target not looked up).
 */
export function makeSrvAnswer(
  name: string,
  read: SrvRead,
  addresses: ReadonlyMap<string, Address[]>,
  maxEndpoints = DEFAULT_MAX_ENDPOINTS,
  inForce: InForce | null = null,
  considered: ReadonlySet<string> | null = null,
): AnswerBody {
  const { refusedNames } = read;
  const notes = [...read.notes];
  /** Each target's addresses, chosen and bounded once however many records name it. */
  const chosen = new Map<string, readonly Address[]>();
  const addressesOf = (target: string): readonly Address[] => {
    let addrs = chosen.get(target);
    if (addrs === undefined) {
      const all = addresses.get(target) ?? [];
      addrs = chooseAddresses(all, MAX_ADDRESSES_PER_TARGET, inForce?.byTarget.get(target));
      chosen.set(target, addrs);
      if (all.length === 0) notes.push(`SRV target ${target} has no A or AAAA record`);
    }
    return addrs;
  };
  let dropped = 0;
  const records: SrvChoice[] = [];
  for (const r of read.ordered) {
    if (considered !== null && !considered.has(r.target)) {
      dropped++;
      continue;
    }
    records.push(r);
    dropped += (addresses.get(r.target)?.length ?? 0) - addressesOf(r.target).length;
  }
  const capped = capEndpoints(records, addressesOf, inForce, maxEndpoints);
  if (capped.endpoints.length === 0) return { status: 'nodata', name, refusedNames };
  // The records that gave no endpoint for the cap (not looked up, or no room left), named up to a sample.
  const overCap: string[] = [];
  if (dropped + capped.dropped > 0) {
    const taken = new Set(capped.endpoints.map((e) => `${e.target}:${String(e.port)}`));
    for (const r of read.ordered) {
      if (overCap.length >= OVER_CAP_SAMPLE) break;
      const key = `${r.target}:${String(r.port)}`;
      if (!taken.has(key) && (considered?.has(r.target) === false || (addresses.get(r.target)?.length ?? 0) > 0)) overCap.push(key);
    }
  }
  return {
    status: 'ok',
    name,
    endpoints: capped.endpoints,
    ttl: Math.min(read.ttl, capped.ttl),
    notes,
    refusedNames,
    dropped: dropped + capped.dropped,
    ...(overCap.length === 0 ? {} : { overCap }),
  };
}

/** The answer of a host:port record: every address an endpoint, at most `maxEndpoints` of them, those in force first, then the same ones whatever the record order. */
export function makeHostAnswer(
  name: string,
  port: number,
  addrs: readonly Address[],
  maxEndpoints = DEFAULT_MAX_ENDPOINTS,
  inForce: InForce | null = null,
): AnswerBody {
  const kept = chooseAddresses(addrs, maxEndpoints, inForce?.byTarget.get(name));
  if (kept.length === 0) return { status: 'nodata', name };
  const endpoints = kept.map((x) => ({ target: name, address: x.address, port, weight: 1, priority: 0, ttl: x.ttl }));
  const taken = new Set(kept.map((x) => x.address));
  const overCap: string[] = [];
  for (const x of addrs) {
    if (overCap.length >= OVER_CAP_SAMPLE) break;
    if (!taken.has(x.address)) overCap.push(endpointKey({ address: x.address, port }));
  }
  const dropped = addrs.length - kept.length;
  return {
    status: 'ok',
    name,
    endpoints,
    ttl: minTtl(kept),
    notes: [],
    refusedNames: [],
    dropped,
    ...(overCap.length === 0 ? {} : { overCap }),
  };
}

type Srv = SrvRead['usable'][number];

/** The records in the order their endpoints are taken: priority, weight (heavier first), target, port. */
function inPreferenceOrder(records: readonly Srv[], targets: readonly string[]): SrvChoice[] {
  const keyed: SrvChoice[] = records.map((r, i) => ({
    target: targets[i] ?? normalizeName(r.data.target),
    port: r.data.port,
    weight: r.data.weight ?? 0,
    priority: r.data.priority ?? 0,
    ttl: r.ttl ?? 0,
  }));
  return keyed.sort(byPreference);
}
