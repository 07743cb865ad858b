import type { Config } from '../config/model.ts';
import type { AgentStatus } from './agent.ts';
import type { DnsView } from './dns-lane.ts';
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
 * /readyz, a load balancer's readiness. Ready once, on every socket, HAProxy answers and the
 * process there has had applied, for every backend, what DNS holds: records, NXDOMAIN,
 * NODATA, endpoints the address policy refuses, or a saved answer (--state-file) within
 * --hold. A reloaded or restarted HAProxy must have it applied again. A time-out or SERVFAIL
 * since start keeps a new replica unready: it must not take traffic with empty slots while
 * the old replicas have servers. Once ready, no DNS condition makes it unready: a stale,
 * missing or refused answer is a line of the body (and a log line, and a metric), not a
 * reason to take the load balancer out of service, where clients would get "connection
 * refused" instead of HAProxy's own answer.
 */
export function readiness(status: AgentStatus, c: Pick<Timing, 'holdMs'>): Verdict {
  const why: string[] = [];
  if (status.lastRunAt === null) why.push('no lane has run yet');
  for (const s of status.sockets) {
    if (s.reachable !== true) {
      why.push(s.reachable === null ? `socket ${s.socket}: not read yet` : (s.detail ?? `socket ${s.socket}: HAProxy does not answer`));
      continue;
    }
    const pending = status.backends.filter((b) => !s.settled.has(b.backend));
    if (pending.length > 0) {
      const pid = s.pid === null ? '' : ` (pid ${String(s.pid)})`;
      why.push(`socket ${s.socket}: HAProxy${pid} has not had ${pending.map(pendingText).join(', ')} applied yet`);
    }
  }
  const head = why.length === 0 ? 'ready' : `not ready: ${why.join('; ')}`;
  return { ok: why.length === 0, detail: [head, ...status.backends.map((b) => backendLine(b, c.holdMs))].join('\n') };
}

const seconds = (ms: number): string => `${String(Math.round(ms / 1000))}s`;

function pendingText(b: DnsView): string {
  if (b.status === 'none') return `backend ${b.backend} (no DNS answer yet)`;
  if (b.status === 'failing' && b.endpoints === null)
    return `backend ${b.backend} (no DNS answer yet: ${b.failing?.kind ?? 'failing'} for ${seconds(b.failing?.forMs ?? 0)})`;
  return `backend ${b.backend}`;
}

/** One informational line per backend: what DNS says and what is in force. */
export function backendLine(b: DnsView, holdMs: number): string {
  const inForce = b.endpoints === null ? 'HAProxy left as it is' : `${String(b.endpoints)} in force`;
  const age =
    b.answerAgeMs === null ? 'no answer to hold' : `answer ${seconds(b.answerAgeMs)} old${b.answerAgeMs > holdMs ? ', past --hold' : ''}`;
  switch (b.status) {
    case 'ok':
      return `backend ${b.backend}: DNS ok, ${inForce}${b.refused > 0 ? ` (${String(b.refused)} refused by the address policy)` : ''}`;
    case 'refused':
      return `backend ${b.backend}: every endpoint DNS gave (${String(b.refused)}) refused by the address policy; ${inForce}`;
    case 'nxdomain':
    case 'nodata':
      return `backend ${b.backend}: DNS says ${b.status.toUpperCase()} (for ${seconds(b.failing?.forMs ?? 0)}); ${inForce}`;
    case 'failing':
      return `backend ${b.backend}: DNS failing (${b.failing?.kind ?? '?'} for ${seconds(b.failing?.forMs ?? 0)}); ${age}; ${inForce}`;
    case 'none':
      return `backend ${b.backend}: DNS not asked yet`;
  }
}
