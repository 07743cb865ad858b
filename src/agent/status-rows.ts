/**
 * The status page's rows: one backend on one socket, each pod and each managed server
 * with its state and the reason in words (status-model.ts puts them together). Pure, as
 * the model is.
 */
import { endpointKey, type Endpoint, type Slot } from '../core/types.ts';
import { OVER_CAP_SAMPLE } from '../dns/answer.ts';
import { slotsOf } from './decide.ts';
import type { DnsDetail } from './dns-lane.ts';
import type { BackendOnSocket, PodRow, ServerRow, Table } from './status-shape.ts';
import type { LiveSessions } from './socket-detail.ts';
import type { SocketDetail } from './socket-lane.ts';

/** The most rows one table holds; past it the rest are counted (`omitted`), not listed. */
export const MAX_ROWS = 1_000;

/** What the rows are made from: the settings they speak of. */
export type RowsInput = Readonly<{ drainMs: number; maxEndpoints: number }>;

export const iso = (ms: number): string => new Date(ms).toISOString();
/** "12:04:31 UTC", for reasons in words. */
export const clock = (ms: number): string => `${iso(ms).slice(11, 19)} UTC`;

const table = <T>(rows: readonly T[]): Table<T> => ({ rows: rows.slice(0, MAX_ROWS), omitted: Math.max(0, rows.length - MAX_ROWS) });

const checkOf = (s: Slot): ServerRow['check'] =>
  !s.checked ? 'not checked' : s.opState === 0 ? 'down' : s.opState === 1 ? 'starting' : s.opState === 3 ? 'stopping' : 'up';

/** One backend on one socket: its pods and its managed servers, each with why. */
export function onSocket(b: DnsDetail, s: SocketDetail, input: RowsInput): BackendOnSocket {
  const socket = s.socket;
  const read = s.read;
  const pods: PodRow[] = [];
  const refusals = (): void => {
    for (const r of b.refusals) {
      pods.push({
        endpoint: r.endpoint,
        target: null,
        server: null,
        state: 'refused',
        reason: `refused by the address policy: ${r.reason} (${r.hint})`,
      });
    }
    const cap = `--max-endpoints ${String(input.maxEndpoints)}`;
    for (const named of b.overCap) {
      const isRecord = b.spec.record.kind === 'srv';
      const port = named.slice(named.lastIndexOf(':') + 1);
      pods.push({
        endpoint: isRecord ? null : named,
        target: isRecord ? named.slice(0, named.lastIndexOf(':')) : null,
        server: null,
        state: 'over-cap',
        reason: `over the cap: left out of the answer (${cap})${isRecord ? `, port ${port}` : ''}`,
      });
    }
    const unnamed = b.dropped - b.overCap.length;
    if (unnamed > 0 && (b.overCap.length === 0 || b.overCap.length >= OVER_CAP_SAMPLE)) {
      pods.push({
        endpoint: null,
        target: null,
        server: null,
        state: 'over-cap',
        reason:
          b.overCap.length === 0
            ? `${String(b.dropped)} in DNS over the cap (${cap}): left out of the answer`
            : `more in DNS over the cap (${cap}): ${String(b.dropped)} endpoints left out of the answer in all`,
      });
    }
  };
  const empty = (note: string): BackendOnSocket => {
    for (const e of b.inForce ?? [])
      pods.push({ endpoint: endpointKey(e), target: e.target, server: null, state: 'waiting', reason: note });
    refusals();
    return { socket, readAt: read === null ? null : iso(read.at), note, pods: table(pods), servers: table([]) };
  };
  if (read === null) return empty('waiting for HAProxy: its servers have not been read yet');
  const found = slotsOf(socket, read.snap, b.spec);
  if (found.servers === null) return empty(`HAProxy has no backend ${b.spec.backend}`);
  const work = read.work.find((w) => w.spec.id === b.backend) ?? null;
  const view = read.snap.backends.get(b.spec.backend) ?? null;
  const servers: ServerRow[] = [];
  const byEndpoint = new Map<string, string>();
  const bySlot = new Map<string, Slot>();
  for (const slot of found.servers.slots) bySlot.set(slot.name, slot);
  const plan = work?.plan ?? null;
  for (const [server, e] of plan?.assignment ?? []) byEndpoint.set(endpointKey(e), server);
  for (const a of work?.added ?? []) byEndpoint.set(endpointKey(a.endpoint), a.name);
  const unplaced = new Set((plan?.unplaced ?? []).map(endpointKey));
  const unused = new Map((plan?.unused ?? []).map((e) => [endpointKey(e), e]));
  const capped = read.capped.get(b.backend) ?? 0;
  const slotCount = found.servers.slots.filter((x) => !x.added).length;

  const addedNow = new Map((work?.added ?? []).map((a) => [a.name, a.endpoint]));
  for (const slot of [...found.servers.slots].sort((x, y) => x.id - y.id)) {
    // A server added by this plan is not in its assignment: it serves the endpoint it was added for.
    const target = plan?.assignment.get(slot.name) ?? addedNow.get(slot.name) ?? null;
    const since = plan?.memory.drainingSince.get(slot.name) ?? null;
    const sessions = s.sessions.get(`${b.spec.backend}/${slot.name}`) ?? null;
    const row = serverRow(slot, target, { since, sessions }, input.drainMs, view?.facts.cookies.get(slot.name) ?? '');
    servers.push(row);
    if (row.state === 'draining')
      pods.push({ endpoint: row.endpoint, target: null, server: slot.name, state: 'draining', reason: row.reason });
  }
  for (const e of b.inForce ?? []) {
    const key = endpointKey(e);
    const server = byEndpoint.get(key) ?? null;
    const slot = server === null ? undefined : bySlot.get(server);
    if (server !== null && slot !== undefined) {
      const row = servers.find((r) => r.server === server);
      const settled = row !== undefined && row.state !== 'free' && row.state !== 'leaving';
      pods.push({
        endpoint: key,
        target: e.target,
        server,
        state: settled ? row.state : 'new',
        reason: settled ? row.reason : `new: being put on ${server}`,
      });
    } else if (server !== null) {
      pods.push({ endpoint: key, target: e.target, server, state: 'new', reason: `new: a server is being added for it (${server})` });
    } else if (unused.has(key)) {
      pods.push({
        endpoint: key,
        target: e.target,
        server: null,
        state: 'unused',
        reason: `SRV priority ${String(e.priority)} is less preferred, and the backend has no backup slots for it`,
      });
    } else if (unplaced.has(key)) {
      pods.push(
        s.dynamic
          ? {
              endpoint: key,
              target: e.target,
              server: null,
              state: 'over-cap',
              reason: `over the cap: ${String(capped)} left without a server, the backend is at --max-endpoints ${String(input.maxEndpoints)}`,
            }
          : {
              endpoint: key,
              target: e.target,
              server: null,
              state: 'no-slot',
              reason: `no slot: ${String(slotCount)} of ${String(slotCount)} slots in use, ${String(unplaced.size)} waiting for a slot (add slots to the server-template, or --dynamic-servers)`,
            },
      );
    } else {
      pods.push({
        endpoint: key,
        target: e.target,
        server: null,
        state: 'waiting',
        reason: "new in DNS: HAProxy gets it at the socket lane's next run",
      });
    }
  }
  refusals();
  return { socket, readAt: iso(read.at), note: null, pods: table(pods), servers: table(servers) };
}

/** What the lane knows of a server's drain: since when (null: not known), and its live sessions as last read. */
type Drain = Readonly<{ since: number | null; sessions: LiveSessions | null }>;

function serverRow(slot: Slot, target: Endpoint | null, drain: Drain, drainMs: number, cookie: string): ServerRow {
  const endpoint = endpointKey(slot);
  const base = {
    server: slot.name,
    kind: slot.added ? ('added' as const) : ('slot' as const),
    endpoint,
    admin: slot.admin,
    weight: slot.weight,
    check: checkOf(slot),
    cookie: cookie === '' ? null : cookie,
    target: target?.target ?? null,
    drainingSince: null,
    drainingUntil: null,
    liveSessions: null,
    liveSessionsAt: null,
  };
  const on = slot.added ? `${slot.name} (a server added at run time)` : `slot ${slot.name}`;
  if (slot.admin === 'drain') {
    const { since, sessions } = drain;
    const counted = sessions === null ? null : { liveSessions: sessions.n, liveSessionsAt: iso(sessions.at) };
    const forIts =
      sessions === null
        ? 'sessions unknown'
        : `for its ${String(sessions.n)} session${sessions.n === 1 ? '' : 's'} (read at ${clock(sessions.at)})`;
    if (since === null) return { ...base, ...counted, state: 'draining', reason: `draining: its pod left DNS, ${forIts}` };
    const until = since + drainMs;
    return {
      ...base,
      ...counted,
      state: 'draining',
      reason: `its pod left DNS: draining on ${on} since ${clock(since)} until ${clock(until)} at the latest, ${forIts}`,
      drainingSince: iso(since),
      drainingUntil: iso(until),
    };
  }
  if (target === null) {
    return slot.admin === 'maint'
      ? { ...base, state: 'free', reason: 'free: in maintenance, serving no pod' }
      : { ...base, state: 'leaving', reason: 'serves no pod in DNS: emptied at the next run' };
  }
  if (slot.admin !== 'ready' || endpointKey(target) !== endpoint) return { ...base, state: 'new', reason: `new: being put on ${on}` };
  if (slot.checked && slot.opState === 0)
    return { ...base, state: 'waiting-check', reason: `on ${on}, waiting for its health check: HAProxy says down, sends it no traffic` };
  return { ...base, state: 'in-force', reason: `in force: served by ${on}` };
}
