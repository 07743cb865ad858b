/**
 * The status page's model (/status, /status.json): for every backend, what DNS said and,
 * on every socket, each pod and each managed server with the reason in words. Pure: built
 * from what the lanes keep (their details) and the last changes, only when asked; no
 * clock, no socket. Every list is as long as the caps already allow (--max-endpoints, the
 * servers a backend has, the answer's refusals) and no longer than MAX_ROWS.
 */
import { describeNameserver } from '../config/model.ts';
import { isIPAddress } from '../core/ip.ts';
import type { AnsweredBy } from '../dns/answer.ts';
import type { ChangeRecord } from './change-history.ts';
import type { DnsDetail, DnsStatus } from './dns-lane.ts';
import type { BackendStatus, SocketStatus, StatusModel } from './status-shape.ts';
import type { SocketDetail } from './socket-lane.ts';
import { iso, MAX_ROWS, onSocket } from './status-rows.ts';

export { clock, MAX_ROWS } from './status-rows.ts';

export type StatusInput = Readonly<{
  now: number;
  drainMs: number;
  maxEndpoints: number;
  dynamicServers: boolean;
  backends: readonly DnsDetail[];
  sockets: readonly SocketDetail[];
  changes: readonly ChangeRecord[];
}>;

const seconds = (ms: number | null): number | null => (ms === null ? null : Math.round(ms / 100) / 10);

const DNS_SAYS: Record<DnsStatus, string> = {
  ok: 'endpoints',
  refused: 'endpoints, every one refused by the address policy',
  nxdomain: 'NXDOMAIN: the name does not exist',
  nodata: 'NODATA: the name has no records of that type',
  failing: 'no usable answer',
  none: 'not asked yet',
};

/** The status page's model from what the lanes keep. */
export function statusModel(input: StatusInput): StatusModel {
  return {
    version: 1,
    generatedAt: iso(input.now),
    settings: { drainSeconds: input.drainMs / 1_000, maxEndpoints: input.maxEndpoints, dynamicServers: input.dynamicServers },
    sockets: input.sockets.map((s) => socketStatus(s, input.dynamicServers)),
    backends: input.backends.map((b) => backendStatus(b, input)),
    changes: input.changes.slice(-MAX_ROWS).map((c) => ({ ...c, at: iso(c.at) })),
  };
}

function socketStatus(s: SocketDetail, asked: boolean): SocketStatus {
  const info = s.info;
  return {
    socket: s.socket,
    reachable: s.view.reachable,
    version: info?.version ?? null,
    pid: info?.pid ?? null,
    uptimeSeconds: info?.uptimeSec ?? null,
    levelAdmin: s.checked,
    dynamicServers: !asked ? 'off' : s.dynamic || s.read === null ? 'on' : 'unsupported',
  };
}

function backendStatus(b: DnsDetail, input: StatusInput): BackendStatus {
  return {
    backend: b.backend,
    haproxyBackend: b.spec.backend,
    record: b.record,
    dns: {
      status: b.status,
      says:
        b.failing !== null && b.endpoints !== null
          ? `${DNS_SAYS[b.status]} (${b.failing.kind}): holding the last good answer`
          : DNS_SAYS[b.status],
      answeredName: b.answeredName,
      endpointsInForce: b.endpoints,
      refused: b.refused,
      overCap: b.dropped,
      answerAgeSeconds: seconds(b.answerAgeMs),
      ttlSeconds: b.ttlSeconds,
      failing: b.failing === null ? null : { forSeconds: seconds(b.failing.forMs) ?? 0, kind: b.failing.kind },
      holdLeftSeconds: seconds(b.holdLeftMs),
      serialDistrusted: b.serialDistrusted,
      nameserver: nameserverOf(b.answeredBy),
      roundTripMs: b.answeredBy === null ? null : Math.max(0, Math.round(b.answeredBy.rttMs)),
      serial:
        b.serial === null
          ? { watched: false, serial: null, trusted: false, says: 'not watched' }
          : {
              watched: true,
              serial: b.serial.serial,
              trusted: b.serial.trusted,
              says: b.serial.trusted ? 'trusted' : `not trusted (${b.serial.why ?? 'unknown'})`,
            },
    },
    sockets: input.sockets.map((s) => onSocket(b, s, input)),
  };
}

/** The nameserver as address:port; null when it is not one (the agent is configured with addresses, never names). */
function nameserverOf(by: AnsweredBy | null): string | null {
  if (by === null) return null;
  const { host, port } = by.ns;
  return isIPAddress(host) && Number.isInteger(port) && port > 0 && port < 65_536 ? describeNameserver(by.ns) : null;
}
