import { describeNameserver, type Nameserver } from '../config/model.ts';
import { DnsError } from '../errors.ts';
import type { DnsObserver } from './answer.ts';
import type { KnownReply, Question, Reply } from './message.ts';
import { answeredAs, statusOf } from './records.ts';
import { sendTry, type Transport, type Try, type TryOutcome } from './transport.ts';

/** How one question is asked: where, how often, and for how long. */
export type QuestionPlan = Readonly<{
  /** The nameservers in the order to try them (the preferred first); tries go round them. */
  nameservers: readonly Nameserver[];
  /** At most this many tries in all (resolv.conf's attempts times the nameservers). */
  tries: number;
  /** The question fails when no try has answered by then (ms from its start). */
  deadlineMs: number;
  /** How long after try `k` (from 0) to `ns` the next try goes out while this one still listens. */
  retryAfterMs: (ns: Nameserver, k: number) => number;
  /** Straight to TCP: this question's answer was truncated over UDP last time (RFC 7766 allows it). */
  tcpFirst: boolean;
  /** Retries go over TCP: for questions whose answer grows with the service (SRV), which a late UDP try would only bring back truncated. */
  retryOverTcp?: boolean;
  /** The first try goes over UDP and TCP at once: an answer never had, which may not fit a datagram (a cold start's SRV record). */
  firstOverBoth?: boolean;
}>;

/** A try to `ns` that answered (whatever its answer said) after `ms`: a round-trip sample (RFC 6298). */
export type RoundTrip = Readonly<{ ns: Nameserver; ms: number }>;

export type Answered = Readonly<{
  reply: Reply;
  raw: Buffer;
  transport: Transport;
  /** Which of the plan's nameservers answered. */
  ns: Nameserver;
  /** The round trip of the try that answered, ms. */
  rttMs: number;
  /** The reply is the known one (the same bytes but the ID): not decoded again. */
  same: boolean;
}>;

/**
 * How a question ended: its answer, or why none came (a DnsError), and, either way, what its
 * tries taught: the round trips of those that answered, and whether a UDP answer came
 * truncated (the question's answer needs TCP).
 */
export type QuestionResult = Readonly<{
  answer: Answered | DnsError;
  roundTrips: readonly RoundTrip[];
  truncated: boolean;
}>;

/**
 * What bounds a question besides its plan: `until`, when the run it belongs to must end (on
 * the question's clock: every question of a run, and its targets' lookups, share one
 * deadline), and `signal`, the agent stopping (every try ends at once).
 */
export type Bounds = Readonly<{ until?: number; signal?: AbortSignal | undefined }>;

/** The error a question ends with when the agent stops: a DnsError, so that whatever does not know of stopping treats it as soft. */
export const stopping = (): DnsError => new DnsError('aborted', 'the agent is stopping');

type Open = { t: Try; sentAt: number };

/**
 * One question, asked the way a stub resolver does (glibc, c-ares, HAProxy's own): a try to
 * the preferred nameserver; when it has not answered within the nameserver's retry time, a
 * new try (a fresh ID and socket) to the next one, while every try sent keeps listening, so
 * a late answer to an earlier try is taken. SERVFAIL, REFUSED or an unreachable server bring
 * the next try at once. A truncated UDP answer brings a TCP try to the same server (unless
 * one is out already: with `retryOverTcp` the retries go over TCP, with `firstOverBoth` the
 * first try goes over both), with the question's full time again: the server did answer. The
 * first answer (NOERROR, NXDOMAIN) ends the question and closes the other tries; no answer
 * by the deadline is a DnsError('timeout'); every try failing otherwise, the last failure.
 * Nothing outlasts `bounds.until`, and `bounds.signal` aborting ends every try at once
 * (DnsError('aborted')). Never rejects: the result says how it ended.
 *
 * Each try is counted in `observer` as it ends (a sink for metrics: nothing is read back),
 * so that a slow question's tries show while it is still asked.
 */
export function askQuestion(
  q: Question,
  plan: QuestionPlan,
  observer: DnsObserver,
  known: KnownReply | undefined,
  now: () => number = Date.now,
  bounds: Bounds = {},
): Promise<QuestionResult> {
  const until = bounds.until ?? Infinity;
  /** The question's deadline from now: `ms`, cut at the run's end. */
  const within = (ms: number): number => Math.max(0, Math.min(ms, until - now()));
  const roundTrips: RoundTrip[] = [];
  let truncated = false;
  return new Promise((resolveResult) => {
    const resolve = (answer: Answered | DnsError): void => {
      resolveResult({ answer, roundTrips, truncated });
    };
    if (bounds.signal?.aborted === true) {
      resolve(stopping());
      return;
    }
    const open = new Set<Open>();
    let sent = 0;
    let overTcp = plan.tcpFirst;
    let settled = false;
    let lastError: DnsError | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const errors: string[] = [];

    const end = (): void => {
      settled = true;
      clearTimeout(retry);
      clearTimeout(deadline);
      bounds.signal?.removeEventListener('abort', aborted);
      for (const o of open) o.t.close();
      open.clear();
    };
    /** The agent stops: every try closes, nothing is counted (no server failed). */
    const aborted = (): void => {
      if (settled) return;
      end();
      resolve(stopping());
    };
    const fail = (e: DnsError): void => {
      for (const o of open) observer.query(o.t.ns, o.t.transport, e.kind === 'timeout' ? 'timeout' : 'unanswered');
      end();
      resolve(e);
    };
    /** Nothing in flight and nothing left to send: the question ends with what went wrong. */
    const exhausted = (): void => {
      if (open.size > 0 || sent < plan.tries || settled) return;
      fail(
        new DnsError(
          lastError?.kind ?? 'timeout',
          `${q.type} ${q.name}: no usable answer (${[...new Set(errors)].slice(-3).join('; ')})`,
          lastError?.transport ?? null,
        ),
      );
    };
    const send = (ns: Nameserver, transport: Transport, counted: boolean): void => {
      if (counted) sent++;
      const entry: Open = { t: undefined as unknown as Try, sentAt: now() };
      entry.t = sendTry(ns, transport, q, observer, known, (o) => {
        open.delete(entry);
        if (!settled) took(entry, o);
      });
      open.add(entry);
    };
    /** The next try: `late` when the last one did not answer in time (a retry over TCP then, with retryOverTcp). */
    const next = (late = false): void => {
      clearTimeout(retry);
      if (settled || sent >= plan.tries) return;
      const ns = plan.nameservers[sent % plan.nameservers.length];
      if (ns === undefined) return;
      const k = sent;
      const transport = overTcp || (late && plan.retryOverTcp === true) ? 'tcp' : 'udp';
      send(ns, transport, true);
      // A datagram learns of a truncation only when its answer comes, late from a slow server: the TCP try is out already.
      if (k === 0 && transport === 'udp' && plan.firstOverBoth === true) send(ns, 'tcp', false);
      if (sent < plan.tries)
        retry = setTimeout(
          () => {
            next(true);
          },
          plan.retryAfterMs(ns, k),
        );
    };
    const took = (entry: Open, o: TryOutcome): void => {
      const { ns, transport } = entry.t;
      if (o instanceof DnsError) {
        observer.query(ns, transport, o.kind);
        lastError = o;
        errors.push(o.message);
        next(); // an unreachable server is no reason to wait
        exhausted();
        return;
      }
      const rttMs = now() - entry.sentAt;
      roundTrips.push({ ns, ms: rttMs });
      if (o.reply.truncated && transport === 'udp') {
        // A truncated UDP answer is a query of its own: counted, then asked again over TCP.
        observer.query(ns, 'udp', 'truncated');
        truncated = true;
        if (!overTcp) {
          // The server answered: its TCP try gets the question's full time again, once.
          overTcp = true;
          clearTimeout(deadline);
          deadline = setTimeout(timedOut, within(plan.deadlineMs));
          if (![...open].some((x) => x.t.transport === 'tcp')) send(ns, 'tcp', false);
        }
        exhausted();
        return;
      }
      const status = statusOf(o.reply);
      if (status === 'servfail' || status === 'refused' || status === 'error') {
        observer.query(ns, transport, status);
        lastError = new DnsError(status, `${describeNameserver(ns)} answered ${o.reply.rcode}`, transport);
        errors.push(lastError.message);
        next();
        exhausted();
        return;
      }
      observer.query(ns, transport, answeredAs(q.type, o.reply));
      for (const other of open) if (other !== entry) observer.query(other.t.ns, other.t.transport, 'unanswered');
      end();
      resolve({ reply: o.reply, raw: o.raw, transport, ns, rttMs, same: o.same });
    };
    const timedOut = (): void => {
      const last = lastError === null ? '' : `; before that: ${lastError.message}`;
      fail(
        new DnsError(
          'timeout',
          `no answer to ${q.type} ${q.name} within ${String(Math.round(given))}ms from ${plan.nameservers.map(describeNameserver).join(', ')}${last}`,
          overTcp ? 'tcp' : 'udp',
        ),
      );
    };
    const given = within(plan.deadlineMs);
    let deadline = setTimeout(timedOut, given);
    bounds.signal?.addEventListener('abort', aborted, { once: true });
    next();
  });
}
