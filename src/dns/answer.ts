import type { Nameserver } from '../config/model.ts';
import type { Endpoint } from '../core/types.ts';
import type { Rejection } from './message.ts';
import type { Transport } from './transport.ts';

/** What one record name gave. NXDOMAIN and NODATA are answers, not failures. */
export type AnswerBody =
  | Readonly<{
      status: 'ok';
      name: string;
      endpoints: readonly Endpoint[];
      ttl: number;
      /** Records that gave no endpoint, said in one line each (names escaped). */
      notes: readonly string[];
      /** SRV targets that are not host names, in RFC 1035 presentation form: refused. */
      refusedNames: readonly string[];
      /** Endpoints the answer would have made beyond --max-endpoints (and an SRV target's address bound), left out; absent: none. */
      dropped?: number;
      /** The first OVER_CAP_SAMPLE records (`target:port`) or addresses (`address:port`) left out for --max-endpoints, in preference order; absent: none. */
      overCap?: readonly string[];
      /** The zone's serial stood still while these records changed: it is not trusted to stand for them (--serial-trust). */
      serialDistrusted?: boolean;
    }>
  | Readonly<{ status: 'nxdomain' | 'nodata'; name: string; refusedNames?: readonly string[] }>;

/** How many of the records an answer left out for --max-endpoints it names (the status page). */
export const OVER_CAP_SAMPLE = 10;

/**
 * An answer, and its generation: how DNS says whether something changed, the one contract
 * between the resolver and those who read its answers. Two answers one Resolver gave with
 * the same generation say the same (status, name, endpoints, TTL, notes, refusals, drops,
 * serial distrust): an answer needs reading once per generation, and whether it is new is
 * told by its generation, never by the answer object. A new generation is an answer made
 * anew, which may still say the same: an SRV record's is made anew only when what it is
 * made of changed (its records, its targets or their addresses, or past a cap the endpoints
 * in force), so at rest its generation stays; a host record's, NXDOMAIN and NODATA each time.
 */
export type DnsAnswer = AnswerBody & Readonly<{ generation: number }>;

/** Numbers the answers of one Resolver: each answer made anew takes the next generation. */
export class Generations {
  #last = 0;

  /** `body`, as a new answer. */
  stamp(body: AnswerBody): DnsAnswer {
    return { ...body, generation: ++this.#last };
  }
}

/** Which nameserver answered a record's question, and the round trip of the try it answered (ms). */
export type AnsweredBy = Readonly<{ ns: Nameserver; rttMs: number }>;

/** What a resolve is given besides the record. */
export type ResolveOptions = Readonly<{
  /** The endpoints in force for the backend: at --max-endpoints (and an SRV target's address bound) they keep their places. */
  inForce?: readonly Endpoint[] | null;
  /** The agent stopping: every question of the resolve ends at once (DnsError('aborted')). */
  signal?: AbortSignal | undefined;
}>;

/**
 * A resolve whose answer came after a newer resolve's of the same record had: it is not
 * what the record says now, and is neither applied nor said. Behind a slow server a
 * question may go out while an older one is in flight; the older one's answer must never
 * win over the newer one's.
 */
export class Superseded extends Error {
  override readonly name = 'Superseded';
  constructor(record: string) {
    super(`${record}: a newer answer came first`);
  }
}

/**
 * What the resolver saw on the wire, for metrics and debug logs: a sink, told of each try as
 * it ends (so that a slow question's tries show while it is asked). Nothing is read back
 * from it and nothing waits on it; what the resolver learns from a question (round trips, a
 * truncation) comes back with the question's result instead.
 */
export type DnsObserver = Readonly<{
  /** Every query made: which server, over what, and how it ended (ok, nxdomain, timeout, truncated...); `count` of them at once. */
  query: (ns: Nameserver, transport: Transport, result: string, count?: number) => void;
  /** A reply dropped instead of trusted. */
  dropped: (ns: Nameserver, transport: Transport, why: Rejection | 'wrong-source') => void;
}>;

export const NO_OBSERVER: DnsObserver = { query: () => undefined, dropped: () => undefined };

export type ResolverOptions = Readonly<{
  nameservers: readonly Nameserver[];
  search: readonly string[];
  ndots: number;
  /** How long a question may take in all before it counts as failed (it may stretch for a slow server, up to holdMs). */
  timeoutMs: number;
  /** Tries of a question per nameserver. */
  attempts: number;
  /** The longest wait before a retry goes out (the interval: a lost datagram is asked again within one). */
  retryMaxMs?: number;
  /** A question never outlasts --hold. */
  holdMs?: number;
  observer?: DnsObserver;
  /** The address families to ask SRV targets and hosts for: those the address policy can accept. Both by default. */
  families?: readonly AddressType[];
  /** Clock for the target cache; Date.now unless a test pins it. */
  now?: () => number;
  /** --serial-trust: how long an unchanged zone serial may stand in for asking (0: never), and how old a serial read may be to count (0: asked afresh). */
  serialTrust?: Readonly<{ maxMs: number; freshMs: number }>;
  /** 0 <= random() < 1, spreads the target cache's expiry; Math.random unless a test pins it. */
  random?: () => number;
  /** --max-endpoints: the most endpoints one answer makes (DEFAULT_MAX_ENDPOINTS unless set). */
  maxEndpoints?: number;
}>;

export type AddressType = 'A' | 'AAAA';
