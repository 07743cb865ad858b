import type { Config } from '../config/model.ts';
import type { AgentStatus } from './agent.ts';
import { DEFAULT_DNS_TIMEOUT_MS } from './compose.ts';

export type Verdict = Readonly<{ ok: boolean; detail: string }>;

type Timing = Pick<Config, 'intervalMs' | 'socketTimeoutMs' | 'dnsTimeoutMs' | 'holdMs'>;

/**
 * How long a lane may go without finishing a run before the agent counts as wedged:
 * 3 intervals, plus 12 of the longer timeout (a run on a hung socket is 3 tries of
 * --socket-timeout, a few exchanges in a row), and never less than 60 s.
 */
export function livenessBoundMs(c: Timing): number {
  return Math.max(60_000, 3 * c.intervalMs + 12 * Math.max(c.socketTimeoutMs, c.dnsTimeoutMs ?? DEFAULT_DNS_TIMEOUT_MS));
}

/** /healthz: every lane finished a run within the liveness bound (counted from start for a lane that never did). */
export function liveness(status: AgentStatus, c: Timing, startedAt: number, now: number): Verdict {
  const bound = livenessBoundMs(c);
  for (const [lane, at] of status.lanes) {
    const since = now - (at ?? startedAt);
    if (since > bound) {
      return {
        ok: false,
        detail: `lane ${lane}: no run finished for ${String(Math.round(since / 1000))}s (bound ${String(bound / 1000)}s)`,
      };
    }
  }
  return { ok: true, detail: 'ok' };
}

/**
 * /readyz: every socket matched every backend's endpoints within three intervals (plus
 * timeouts), and no backend's DNS answer is older than --hold. A DNS failure shorter than
 * --hold does not make the agent, and so the HAProxy pod, unready; once the hold expired
 * (the servers drain, then leave) it does.
 */
export function readiness(status: AgentStatus, c: Timing): Verdict {
  const staleAfter = 3 * c.intervalMs + 2 * c.socketTimeoutMs + 10_000;
  if (status.lastRunAt === null) return { ok: false, detail: 'no pass finished yet' };
  for (const [backend, { answerAgeMs, syncedAgeMs }] of status.backends) {
    if (answerAgeMs === null) return { ok: false, detail: `backend ${backend}: no DNS answer yet` };
    if (answerAgeMs > c.holdMs) {
      return { ok: false, detail: `backend ${backend}: DNS answer ${String(Math.round(answerAgeMs / 1000))}s old, past --hold` };
    }
    if (syncedAgeMs === null) return { ok: false, detail: `backend ${backend}: HAProxy not matched yet` };
    if (syncedAgeMs > staleAfter) {
      return { ok: false, detail: `backend ${backend}: HAProxy last matched ${String(Math.round(syncedAgeMs / 1000))}s ago` };
    }
  }
  return { ok: true, detail: 'ok' };
}
