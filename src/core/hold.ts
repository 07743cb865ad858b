import type { Endpoint } from './types.ts';

/**
 * Which endpoints stay in force when DNS does not answer well, with HAProxy's names:
 * `hold` (any failure: timeout, SERVFAIL, REFUSED, unreachable, malformed) and `hold nx`
 * (the name does not exist, or has no records). Both count from the last good answer, or
 * from the first failure when there never was one. Before any good answer, nothing is in
 * force (`null`): the agent leaves HAProxy as it is rather than guess.
 */
export type DnsOutcome =
  | Readonly<{ status: 'ok'; endpoints: readonly Endpoint[] }>
  | Readonly<{ status: 'nxdomain' | 'nodata' }>
  | Readonly<{ status: 'error'; kind: string; message: string }>;

export type HoldState = Readonly<{
  good: Readonly<{ endpoints: readonly Endpoint[]; at: number }> | null;
  failing: Readonly<{ since: number; kind: string; expired: boolean }> | null;
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
  const kind = outcome.status === 'error' ? outcome.kind : outcome.status;
  const message = outcome.status === 'error' ? outcome.message : `the name answered ${outcome.status.toUpperCase()}`;
  const limit = outcome.status === 'error' ? timers.holdMs : timers.holdNxMs;
  const sameFault = state.failing !== null && state.failing.kind === kind;
  const since = state.failing?.since ?? now;
  const reference = state.good?.at ?? since;
  const expired = now - reference >= limit;
  const endpoints = expired ? [] : (state.good?.endpoints ?? null);
  let event: HoldEvent | null = null;
  if (!sameFault) event = { event: 'hold-started', kind, message, answerAgeMs: age };
  const alreadyExpired = sameFault && state.failing.expired;
  if (expired && !alreadyExpired) {
    event = { event: 'hold-expired', kind, answerAgeMs: age, endpointsDropped: state.good?.endpoints.length ?? 0 };
  }
  return { state: { good: state.good, failing: { since, kind, expired } }, endpoints, event };
}
