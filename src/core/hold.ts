import type { Endpoint } from './types.ts';

/**
 * Which endpoints stay in force when DNS does not answer well, with HAProxy's names:
 *
 * - `hold`: any failure (timeout, SERVFAIL, REFUSED, unreachable, malformed) keeps the
 *   last good answer for `holdMs`, counted from that answer (from the first failure when
 *   there never was one).
 * - `hold nx`: the name does not exist, or has no records. It counts as gone only once it
 *   has said so for `holdNxMs`, counted from the first such answer: an outage before it
 *   does not count, so one NXDOMAIN after a long outage does not empty the backend.
 *
 * Before any good answer, nothing is in force (`null`): the agent leaves HAProxy as it is
 * rather than guess.
 */
export type DnsOutcome =
  | Readonly<{ status: 'ok'; endpoints: readonly Endpoint[] }>
  | Readonly<{ status: 'nxdomain' | 'nodata' }>
  | Readonly<{ status: 'error'; kind: string; message: string }>;

export type HoldState = Readonly<{
  good: Readonly<{ endpoints: readonly Endpoint[]; at: number }> | null;
  failing: Readonly<{
    since: number;
    kind: string;
    expired: boolean;
    /** When the name first said NXDOMAIN or NODATA since the last good answer, null if it has not. */
    nxSince: number | null;
  }> | null;
}>;

export const initialHold: HoldState = { good: null, failing: null };

export type HoldTimers = Readonly<{ holdMs: number; holdNxMs: number }>;

export type HoldEvent =
  | Readonly<{ event: 'hold-started'; kind: string; message: string; answerAgeMs: number | null }>
  | Readonly<{ event: 'hold-expired'; kind: string; answerAgeMs: number | null; endpointsDropped: number }>
  | Readonly<{ event: 'recovered'; failedForMs: number; answerAgeMs: number | null }>;

export type HoldResult = Readonly<{
  state: HoldState;
  /** The endpoints in force; null: no answer yet, leave HAProxy alone. */
  endpoints: readonly Endpoint[] | null;
  /** Set on a transition only, so each fault is logged once, not every pass. */
  event: HoldEvent | null;
}>;

export function applyHold(state: HoldState, outcome: DnsOutcome, now: number, timers: HoldTimers): HoldResult {
  const age = state.good === null ? null : now - state.good.at;
  if (outcome.status === 'ok') {
    const event: HoldEvent | null =
      state.failing === null ? null : { event: 'recovered', failedForMs: now - state.failing.since, answerAgeMs: age };
    return { state: { good: { endpoints: outcome.endpoints, at: now }, failing: null }, endpoints: outcome.endpoints, event };
  }
  const nx = outcome.status !== 'error';
  const kind = nx ? outcome.status : outcome.kind;
  const message = nx ? `the name answered ${outcome.status.toUpperCase()}` : outcome.message;
  const sameFault = state.failing?.kind === kind;
  const since = state.failing?.since ?? now;
  const nxSince = state.failing?.nxSince ?? (nx ? now : null);
  const heldFor = now - (state.good?.at ?? since);
  const expired = heldFor >= timers.holdMs || (nxSince !== null && now - nxSince >= timers.holdNxMs);
  const endpoints = expired ? [] : (state.good?.endpoints ?? null);
  let event: HoldEvent | null = null;
  if (!sameFault) event = { event: 'hold-started', kind, message, answerAgeMs: age };
  if (expired && state.failing?.expired !== true) {
    event = { event: 'hold-expired', kind, answerAgeMs: age, endpointsDropped: state.good?.endpoints.length ?? 0 };
  }
  return { state: { good: state.good, failing: { since, kind, expired, nxSince } }, endpoints, event };
}
