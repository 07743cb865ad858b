import { describeNameserver, type Nameserver } from '../config/model.ts';
import type { QuestionPlan, RoundTrip } from './question.ts';
import { RttTable } from './rtt.ts';

/** The shortest wait before a retry: a server that answers in a millisecond still gets a moment under load. */
const MIN_RETRY_MS = 100;

/**
 * How far a slow server's round trips may stretch a question's deadline: to this many DNS
 * timeouts, and no further than STRETCH_MAX_MS unless the timeout itself is longer.
 */
const STRETCH_TIMEOUTS = 3;
const STRETCH_MAX_MS = 20_000;

/**
 * The longest a run's questions take in all (search list, CNAMEs, a TCP try after a
 * truncated answer, the targets' addresses), unless the DNS timeout itself is longer: the
 * liveness bound (/healthz) is at least 60 s, and 12 DNS timeouts, so a run ends well within it.
 */
const RUN_MAX_MS = 30_000;

/** Tries of a serial question: a watch that lost one to a busy server asks again within its period anyway. */
const SERIAL_TRIES = 3;

export type ServerSettings = Readonly<{
  nameservers: readonly Nameserver[];
  /** How long a question may take in all (--dns-timeout, resolv.conf's timeout, else 5 s). */
  timeoutMs: number;
  /** Tries of a question per nameserver (resolv.conf's attempts). */
  attempts: number;
  /** The longest wait before a retry (the interval). */
  retryMaxMs?: number | undefined;
  /** No question outlasts --hold. */
  holdMs?: number | undefined;
}>;

/**
 * The retry policy: which nameserver to ask, how often and for how long. The one that
 * answered last first; retries when a try is late for that server (its smoothed round
 * trips, RFC 6298, doubling each round over the servers, between 100 ms and the interval);
 * a deadline of --dns-timeout, stretched for a server whose answers were seen to take
 * longer (to three timeouts, 20 s at most unless the timeout is longer), never past --hold.
 */
export class RetryPolicy {
  #s: ServerSettings;
  readonly #rtt = new RttTable();
  #preferred = 0;

  constructor(settings: ServerSettings) {
    this.#s = settings;
  }

  /** New nameservers or timeouts (resolv.conf read again): the round trips seen of those still listed are kept, the preference starts over. */
  reconfigure(settings: ServerSettings): void {
    this.#s = settings;
    this.#preferred = 0;
    this.#rtt.keep(new Set(settings.nameservers.map(describeNameserver)));
  }

  /** How many nameservers have round-trip samples. */
  get sampled(): number {
    return this.#rtt.size;
  }

  /** The nameserver that answered last (the first before any answer). */
  get preferred(): Nameserver | undefined {
    return this.#s.nameservers[this.#preferred] ?? this.#s.nameservers[0];
  }

  /** A try to `ns` answered after `ms`. */
  sample(ns: Nameserver, ms: number): void {
    this.#rtt.sample(describeNameserver(ns), ms);
  }

  /** The round trips a question's tries took. */
  learn(roundTrips: readonly RoundTrip[]): void {
    for (const t of roundTrips) this.sample(t.ns, t.ms);
  }

  /** `ns` answered a question: it is asked first next time. */
  answered(ns: Nameserver): void {
    this.#preferred = Math.max(0, this.#s.nameservers.indexOf(ns));
  }

  /**
   * How long a question waits for its first answer: the DNS timeout, stretched to twice the
   * preferred server's retry time once its answers were seen to take longer (never before:
   * a first question waits the timeout and no more).
   */
  deadlineMs(): number {
    const timeout = this.#s.timeoutMs;
    const ns = this.preferred;
    const seen = ns !== undefined && this.#rtt.srtt(describeNameserver(ns)) !== null;
    const stretched = seen ? 2 * this.#rtt.rto(describeNameserver(ns)) : 0;
    const most = Math.max(timeout, Math.min(STRETCH_TIMEOUTS * timeout, STRETCH_MAX_MS));
    return Math.min(this.#s.holdMs ?? Infinity, Math.max(timeout, Math.min(stretched, most)));
  }

  /**
   * How long a run's questions may take in all (each within its own deadline): twice a
   * question's deadline, for a second question (the next name of the search list, a CNAME's
   * target, the TCP try after a truncated answer), at most RUN_MAX_MS unless the timeout is
   * longer, never past --hold.
   */
  runLimitMs(): number {
    const timeout = this.#s.timeoutMs;
    return Math.min(this.#s.holdMs ?? Infinity, Math.max(timeout, Math.min(2 * this.deadlineMs(), RUN_MAX_MS)));
  }

  /**
   * How a zone serial is asked: the preferred nameserver alone (a watch asks again soon),
   * retried at its retry time while the first try listens, for `deadlineMs` at most.
   */
  serialPlan(deadlineMs: number): QuestionPlan | null {
    const ns = this.preferred;
    if (ns === undefined) return null;
    const retry = this.#retryAfter(1, this.#s.timeoutMs);
    return { nameservers: [ns], tries: SERIAL_TRIES, deadlineMs, retryAfterMs: retry, tcpFirst: false };
  }

  /**
   * Retry time after try `k` to `ns`: its RTO (before any round trip was seen, RFC 6298's
   * 1 s, or half the DNS timeout when that is shorter, so that a retry fits in it), doubling
   * each round over `servers` nameservers, between 100 ms and `maxMs`.
   */
  #retryAfter(servers: number, maxMs: number): (ns: Nameserver, k: number) => number {
    return (ns, k) => {
      const name = describeNameserver(ns);
      const rto = this.#rtt.srtt(name) === null ? Math.min(this.#rtt.rto(name), this.#s.timeoutMs / 2) : this.#rtt.rto(name);
      return Math.min(Math.max(rto * 2 ** Math.floor(k / servers), MIN_RETRY_MS), maxMs);
    };
  }

  /**
   * How one question is asked now: `tcpFirst` when its answer was truncated last time;
   * `grows` for answers that grow with the service (SRV): retries over TCP, and the first try
   * over UDP and TCP at once while no answer is known (`known`).
   */
  plan(tcpFirst: boolean, grows = false, known = true): QuestionPlan {
    const servers = this.#s.nameservers;
    const first = this.#preferred;
    const maxRetry = Math.min(this.#s.retryMaxMs ?? this.#s.timeoutMs, this.#s.timeoutMs);
    return {
      nameservers: servers.map((_, k) => servers[(first + k) % servers.length] as Nameserver),
      tries: this.#s.attempts * servers.length,
      deadlineMs: this.deadlineMs(),
      retryAfterMs: this.#retryAfter(servers.length, maxRetry),
      tcpFirst,
      retryOverTcp: grows,
      firstOverBoth: grows && !known && !tcpFirst,
    };
  }
}
