import type { Nameserver } from '../config/model.ts';
import { DnsError } from '../errors.ts';
import type { AddressType, DnsObserver } from './answer.ts';
import { normalizeName, type KnownReply, type Reply } from './message.ts';
import type { Found } from './names.ts';
import { askPipelined } from './pipeline.ts';
import type { Bounds } from './question.ts';
import { addressesIn, followChain, statusOf, type Address } from './records.ts';
import type { AddressQuestion, TargetCache, TargetRead, TargetReply } from './target-cache.ts';

/** Targets looked up one by one (CNAME chains), at once. */
export const TARGET_QUERIES_IN_FLIGHT = 16;

/** A timer's longest wait (setTimeout takes a longer one as 1 ms). */
const TIMER_MAX_MS = 2 ** 31 - 1;

/** What the run has left, as a wait. */
const budgetMs = (bounds: Bounds, now: number): number => Math.max(0, Math.min(TIMER_MAX_MS, (bounds.until ?? Infinity) - now));

/** What asking targets' addresses gave. */
export type TargetsLooked = {
  /** Addresses by target, for the targets whose every question was answered. */
  found: Map<string, Address[]>;
  /** Targets whose answer stopped at a CNAME: each to be followed on its own, for the family asked. */
  cnames: { target: string; type: AddressType }[];
  /** Why a target got no answer (the first failure), null when every one did. */
  failure: DnsError | null;
};

/**
 * Addresses of targets, asked all at once: every question pipelined on one TCP connection
 * to `ns` (the nameserver that answered last), only the address families wanted, by
 * `bounds.until` (what the run has left), ended at once by `bounds.signal`. A reply that is
 * the last one to its question (kept in `cache` with what it said) is neither decoded nor
 * read again. A target none of whose questions was answered is left out of `found`: the
 * cache keeps what it knew of it (a busy server must not make a known pod disappear), and
 * the next run asks again; `failure` says why. Each question's result is counted in
 * `observer`, by status, in one call per status.
 */
export async function askTargets(
  cache: TargetCache,
  ns: Nameserver | undefined,
  families: readonly AddressType[],
  targets: readonly string[],
  observer: DnsObserver,
  bounds: Bounds,
  now: number,
): Promise<TargetsLooked> {
  const looked: TargetsLooked = { found: new Map(), cnames: [], failure: null };
  if (targets.length === 0 || ns === undefined) return looked;
  const questions = cache.questions(targets, families);
  const kept: (TargetReply | undefined)[] = [];
  const known: (KnownReply | undefined)[] = [];
  for (const q of questions) {
    const k = cache.reply(q);
    kept.push(k);
    known.push(k?.known);
  }
  const replies = await askPipelined(ns, questions, budgetMs(bounds, now), observer, known, bounds.signal);
  const statuses = new Map<string, number>();
  const failedTargets = new Set<string>();
  replies.forEach((r, i) => {
    const q = questions[i];
    if (q === undefined) return;
    if (r instanceof DnsError) {
      looked.failure ??= r;
      failedTargets.add(q.name);
      // A question the agent's stop ended is no server's failure: not counted.
      if (r.kind !== 'aborted') statuses.set(r.kind, (statuses.get(r.kind) ?? 0) + 1);
      return;
    }
    const addrs = looked.found.get(q.name) ?? [];
    looked.found.set(q.name, addrs);
    // The known reply was read when it came; a new one is read now, and kept with what it said.
    let read = r.same ? kept[i]?.read : undefined;
    if (read === undefined) {
      read = readTarget(q, r.reply);
      if (!r.same) cache.keepReply(q, { known: { raw: r.raw, reply: r.reply }, read });
    }
    statuses.set(read.status, (statuses.get(read.status) ?? 0) + 1);
    for (const a of read.addresses) addrs.push(a);
    if (read.cname) looked.cnames.push({ target: q.name, type: q.type });
  });
  for (const [status, n] of statuses) observer.query(ns, 'tcp', status, n);
  // A target with one family answered and the other not is not known whole: asked again next run.
  for (const t of failedTargets) looked.found.delete(t);
  return looked;
}

/** What a reply to a target's question says: its status, its addresses, whether it stopped at a CNAME. */
function readTarget(q: AddressQuestion, reply: Reply): TargetRead {
  const status = statusOf(reply);
  const chain = status === 'ok' ? followChain(reply.answers, q.name, q.type) : null;
  return {
    status,
    addresses: chain === null ? [] : addressesIn(chain.records, chain.name),
    cname: chain !== null && chain.records.length === 0 && chain.name !== q.name,
  };
}

/** A target whose answer stopped at a CNAME, followed on its own: its addresses join what was found, or its failure leaves it out. */
export function takeFollowed(looked: TargetsLooked, target: string, followed: Found | DnsError): void {
  if (followed instanceof DnsError) {
    looked.failure ??= followed;
    looked.found.delete(target);
    return;
  }
  if (followed.status !== 'ok') return;
  const addrs = looked.found.get(target);
  if (addrs !== undefined) for (const a of addressesIn(followed.records, normalizeName(followed.name))) addrs.push(a);
}
