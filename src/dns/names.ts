import type { Answer, RecordType } from 'dns-packet';
import { DnsError } from '../errors.ts';
import type { Lookup, RecordAsker } from './record-asker.ts';
import { normalizeName } from './message.ts';
import type { Bounds } from './question.ts';
import { followChain, MAX_CNAME } from './records.ts';
import { candidateNames } from './resolv-conf.ts';

/** A name's records of the type asked, at the end of its CNAME chain (none unless `status` is ok). */
export type Found = Lookup & Readonly<{ records: Answer[] }>;

/** The search list and ndots of resolv.conf. */
export type SearchList = Readonly<{ search: readonly string[]; ndots: number }>;

/**
 * `name` through the search list: the first candidate with records wins; every candidate
 * NXDOMAIN makes NXDOMAIN, else NODATA. Each name asked (candidates, CNAME links) goes into
 * `asked`.
 */
export async function search(
  asker: RecordAsker,
  list: SearchList,
  name: string,
  type: RecordType,
  bounds: Bounds,
  asked?: string[],
): Promise<Found> {
  let last: Found | undefined;
  let allNx = true;
  for (const candidate of candidateNames(name, list.search, list.ndots)) {
    last = await follow(asker, candidate, type, bounds, asked);
    if (last.status === 'ok') return last;
    if (last.status !== 'nxdomain') allNx = false;
  }
  if (last === undefined) throw new TypeError('no candidate names');
  return { ...last, status: allNx ? 'nxdomain' : 'nodata', name: normalizeName(name) };
}

/** One name, following CNAMEs (within an answer and across questions, MAX_CNAME links), to the records of `type` at the end of the chain. */
export async function follow(asker: RecordAsker, name: string, type: RecordType, bounds: Bounds, asked?: string[]): Promise<Found> {
  let current = normalizeName(name);
  for (let hop = 0; hop < MAX_CNAME; hop++) {
    asked?.push(current);
    const looked = await asker.ask(current, type, bounds);
    if (looked.status !== 'ok') return { ...looked, records: [] };
    const chain = followChain(looked.reply.answers, current, type);
    if (chain.records.length > 0) return { ...looked, name: chain.name, records: chain.records };
    if (chain.name === current) return { ...looked, status: 'nodata', records: [] };
    current = chain.name; // the answer stopped at a CNAME: ask for its target
  }
  throw new DnsError('malformed', `CNAME chain longer than ${String(MAX_CNAME)} links from ${name}`);
}
