/**
 * The shape of the status page's data: what /status shows and /status.json holds
 * (`version` 1, documented in docs/status.md; test/deploy/status-doc.test.ts keeps the two
 * in step). A field may be added within a version; one removed or changed in meaning
 * bumps it.
 */
import type { ChangeRecord } from './change-history.ts';
import type { DnsStatus } from './dns-lane.ts';

/** What a pod (an endpoint, or the address of a draining server) is to the agent. */
export type PodState = 'in-force' | 'new' | 'waiting-check' | 'draining' | 'refused' | 'over-cap' | 'no-slot' | 'unused' | 'waiting';

/** What a managed server is doing. */
export type ServerState = 'in-force' | 'new' | 'waiting-check' | 'draining' | 'free' | 'leaving';

export type PodRow = Readonly<{
  /** address:port; null for what the answer left out unnamed (over --max-endpoints). */
  endpoint: string | null;
  /** The SRV target (the pod's name), null when not known (a draining server's pod left DNS). */
  target: string | null;
  /** The server that serves it, or will, null when none. */
  server: string | null;
  state: PodState;
  reason: string;
}>;

export type ServerRow = Readonly<{
  server: string;
  /** A configured slot of the server-template, or a server the agent added. */
  kind: 'slot' | 'added';
  endpoint: string;
  admin: 'ready' | 'drain' | 'maint';
  weight: number;
  /** HAProxy's health check of it: up, down, starting, stopping, or not checked. */
  check: 'up' | 'down' | 'starting' | 'stopping' | 'not checked';
  /** The cookie HAProxy gives it, null when none (or hidden below level operator). */
  cookie: string | null;
  /** The pod it serves, null when none. */
  target: string | null;
  state: ServerState;
  reason: string;
  /** While draining: since when, and until when at the latest (ISO 8601, UTC). */
  drainingSince: string | null;
  drainingUntil: string | null;
  /** While draining: its live sessions as last read (when its drain started, or another server of the backend changed), and when; null: not read. */
  liveSessions: number | null;
  liveSessionsAt: string | null;
}>;

export type Table<T> = Readonly<{ rows: readonly T[]; omitted: number }>;

export type BackendOnSocket = Readonly<{
  socket: string;
  /** When HAProxy's servers were last read (ISO 8601), null before any read. */
  readAt: string | null;
  /** Why there is nothing to show, null when there is. */
  note: string | null;
  pods: Table<PodRow>;
  servers: Table<ServerRow>;
}>;

export type BackendStatus = Readonly<{
  backend: string;
  haproxyBackend: string;
  record: string;
  dns: Readonly<{
    status: DnsStatus;
    /** What the status means, in words. */
    says: string;
    answeredName: string | null;
    endpointsInForce: number | null;
    refused: number;
    /** Endpoints the answer left out for --max-endpoints. */
    overCap: number;
    answerAgeSeconds: number | null;
    ttlSeconds: number | null;
    failing: Readonly<{ forSeconds: number; kind: string }> | null;
    /** While DNS fails, how long the endpoints in force are still held. */
    holdLeftSeconds: number | null;
    /** The zone's serial stood still while the records changed: it no longer stands for them (--serial-trust). */
    serialDistrusted: boolean;
    /** The nameserver that gave the answer held (address:port, as configured), null before any answer. */
    nameserver: string | null;
    /** The round trip of the try it answered, ms; null before any answer. */
    roundTripMs: number | null;
    /** The zone's serial: whether it is read (--watch, --serial-trust), as last read, whether it is trusted, in words. */
    serial: Readonly<{ watched: boolean; serial: number | null; trusted: boolean; says: string }>;
  }>;
  sockets: readonly BackendOnSocket[];
}>;

export type SocketStatus = Readonly<{
  socket: string;
  /** Whether the last run reached HAProxy, null before the first run. */
  reachable: boolean | null;
  version: string | null;
  pid: number | null;
  uptimeSeconds: number | null;
  /** The configuration and the socket's level admin were checked for this process. */
  levelAdmin: boolean;
  /** Servers can be added at run time: on (asked for, and this HAProxy can), off (not asked for), unsupported (asked for, this HAProxy cannot). */
  dynamicServers: 'on' | 'off' | 'unsupported';
}>;

export type StatusModel = Readonly<{
  version: 1;
  generatedAt: string;
  settings: Readonly<{ drainSeconds: number; maxEndpoints: number; dynamicServers: boolean }>;
  sockets: readonly SocketStatus[];
  backends: readonly BackendStatus[];
  /** The last changes made to servers, oldest first (at most 50). */
  changes: readonly (Omit<ChangeRecord, 'at'> & Readonly<{ at: string }>)[];
}>;
