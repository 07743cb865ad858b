import type { Answer } from 'dns-packet';
import type { Nameserver } from '../config/model.ts';
import { DnsError } from '../errors.ts';
import type { AddressType, DnsObserver } from './answer.ts';
import type { Lookup } from './asker.ts';
import { normalizeName, type Reply } from './message.ts';
import type { Bounds } from './question.ts';
import { askPipelined } from './pipeline.ts';
import { addressesIn, followChain, inBatches, statusOf, type Address } from './records.ts';
import type { TargetCache } from './targets.ts';

/** Targets looked up one by one (CNAME chains), at once. */
const TARGET_QUERIES_IN_FLIGHT = 16;

/** A timer's longest wait (setTimeout takes a longer one as 1 ms). */
const TIMER_MAX_MS = 2 ** 31 - 1;

/** What the run has left, as a wait. */
const budgetMs = (bounds: Bounds, now: number): number => Math.max(0, Math.min(TIMER_MAX_MS, (bounds.until ?? Infinity) - now));

/** What a target's reply said: read once per reply (a reply the pipeline knew is the same object). */
type TargetRead = Readonly<{ status: string; addresses: readonly Address[]; cname: boolean }>;

/** What looking up targets takes from the resolver. */
export type TargetLookup = Readonly<{
  /** The nameserver to ask (the one that answered last). */
  ns: () => Nameserver | undefined;
  families: () => readonly AddressType[];
  cache: TargetCache;
  /** Where each question is counted: a sink. */
  observer: DnsObserver;
  /** One name, CNAMEs followed, for a target whose answer stopped at a CNAME. */
  follow: (name: string, type: AddressType, bounds: Bounds) => Promise<Lookup & { records: Answer[] }>;
  now: () => number;
  read: WeakMap<Reply, TargetRead>;
}>;

/**
 * Addresses of targets, asked all at once: every question pipelined on one TCP
 * connection to the preferred nameserver, only the address families wanted, by
 * `bounds.until` (what the run has left), ended at once by `bounds.signal`. A target whose answer is a CNAME to follow is asked
 * on its own. A target none of whose questions was answered is left out of `found`: the
 * cache keeps what it knew of it (a busy server must not make a known pod disappear), and
 * the next run asks again; `failure` says why.
 */
export async function lookUpTargets(
  c: TargetLookup,
  targets: readonly string[],
  bounds: Bounds,
): Promise<{ found: Map<string, Address[]>; failure: DnsError | null }> {
  const found = new Map<string, Address[]>();
  if (targets.length === 0) return { found, failure: null };
  const families = c.families();
  const questions = c.cache.questions(targets, families);
  const ns = c.ns();
  if (ns === undefined) return { found, failure: null };
  const replies = await askPipelined(ns, questions, budgetMs(bounds, c.now()), c.observer, c.cache.known, bounds.signal);
  let failure: DnsError | null = null;
  const again: { target: string; type: AddressType }[] = [];
  const statuses = new Map<string, number>();
  const failedTargets = new Set<string>();
  replies.forEach((r, i) => {
    const q = questions[i];
    if (q === undefined) return;
    if (r instanceof DnsError) {
      failure ??= r;
      failedTargets.add(q.name);
      // A question the agent's stop ended is no server's failure: not counted.
      if (r.kind !== 'aborted') statuses.set(r.kind, (statuses.get(r.kind) ?? 0) + 1);
      return;
    }
    const addrs = found.get(q.name) ?? [];
    found.set(q.name, addrs);
    // A reply the pipeline knew (the same bytes as last time) is the same object: read once.
    let read = c.read.get(r);
    if (read === undefined) {
      const status = statusOf(r);
      const chain = status === 'ok' ? followChain(r.answers, q.name, q.type) : null;
      read = {
        status,
        addresses: chain === null ? [] : addressesIn(chain.records, chain.name),
        cname: chain !== null && chain.records.length === 0 && chain.name !== q.name,
      };
      c.read.set(r, read);
    }
    statuses.set(read.status, (statuses.get(read.status) ?? 0) + 1);
    for (const a of read.addresses) addrs.push(a);
    if (read.cname) again.push({ target: q.name, type: q.type });
  });
  for (const [status, n] of statuses) c.observer.query(ns, 'tcp', status, n);
  // A target with one family answered and the other not is not known whole: asked again next run.
  for (const t of failedTargets) found.delete(t);
  await inBatches(again, TARGET_QUERIES_IN_FLIGHT, async ({ target, type }) => {
    try {
      const r = await c.follow(target, type, bounds);
      if (r.status === 'ok') for (const a of addressesIn(r.records, normalizeName(r.name))) found.get(target)?.push(a);
    } catch (err) {
      if (!(err instanceof DnsError)) throw err;
      failure ??= err;
      found.delete(target);
    }
  });
  return { found, failure };
}
