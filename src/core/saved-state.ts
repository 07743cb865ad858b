import { isIPAddress } from './ip.ts';
import { isHostname } from './names.ts';
import type { Endpoint } from './types.ts';

/**
 * What the agent keeps across a restart (`--state-file`): per backend, the last good DNS
 * answer and when it came; per socket and backend, when each running drain started. With
 * it, an agent restarted during a DNS outage (with HAProxy, the emptyDir kept) still has
 * an answer to hold, and a drain keeps its clock.
 *
 * The format this agent writes: 2, one line of JSON, each endpoint an array
 * `[target, address, port, weight, priority, ttl]` (about 80 bytes for a pod of a
 * Kubernetes Service). Format 1, with endpoints as indented objects (about 180 bytes), is
 * still read: an agent upgraded in place keeps its saved answer.
 */
export const STATE_VERSION = 2;

/** A saved time this far ahead of the agent's clock is taken as clock skew; further, as a time that never comes. */
export const FUTURE_SKEW_MS = 60_000;

export type SavedAnswer = Readonly<{ record: string; at: number; endpoints: readonly Endpoint[] }>;

export type SavedState = Readonly<{
  /** The format the state was read from; encodeState writes STATE_VERSION whatever it says. */
  version: 1 | typeof STATE_VERSION;
  /** Backend id -> its last good answer. */
  backends: Readonly<Record<string, SavedAnswer>>;
  /** Socket -> backend id -> server -> when its drain started (ms since the epoch). */
  drains: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, number>>>>>>;
}>;

export const emptyState: SavedState = { version: STATE_VERSION, backends: {}, drains: {} };

/**
 * The most one endpoint takes in a file this agent reads, format 1's indented object being
 * the larger: a 254-byte target (a host name with its final dot), a 45-byte address (the
 * longest IPv6 text), five-digit port, weight and priority, a ten-digit TTL, keys,
 * quotes, indentation and newlines (440 bytes), rounded up.
 */
const ENDPOINT_MAX_BYTES = 448;
/** The most one running drain takes: a server name of up to 100 bytes and a time in ms, indented. */
const DRAIN_MAX_BYTES = 136;
/** A backend's or a socket's own keys, names and times (names come from the flags). */
const ENTRY_MAX_BYTES = 1_024;

/**
 * The largest state file this agent can have written for `backends` backends on
 * `sockets` sockets, with at most `maxEndpoints` endpoints a backend: each backend's
 * answer, and a drain per endpoint per socket. A larger file was not written by the agent
 * and is not read.
 */
export function maxStateBytes(backends: number, sockets: number, maxEndpoints: number): number {
  const answers = backends * (ENTRY_MAX_BYTES + maxEndpoints * ENDPOINT_MAX_BYTES);
  const drains = sockets * (ENTRY_MAX_BYTES + backends * (ENTRY_MAX_BYTES + maxEndpoints * DRAIN_MAX_BYTES));
  return ENTRY_MAX_BYTES + answers + drains;
}

/** Stable text, one line: the same state always gives the same bytes. */
export function encodeState(s: SavedState): string {
  const backends = Object.fromEntries(
    Object.keys(s.backends)
      .sort()
      .map((id) => {
        const a = s.backends[id] as SavedAnswer;
        const endpoints = a.endpoints.map((e) => [e.target, e.address, e.port, e.weight, e.priority, e.ttl]);
        return [id, { record: a.record, at: a.at, endpoints }];
      }),
  );
  return `${JSON.stringify({ version: STATE_VERSION, backends, drains: sortKeys(s.drains) })}\n`;
}

/**
 * Reads a state file's text, format 1 or 2. Anything that is not what the agent writes,
 * for the backends it manages, is left out with a warning, and so is a time more than
 * FUTURE_SKEW_MS ahead of `now` (an answer or a drain dated there would be held for
 * ever): the file is a hint, never a reason to fail or to trust a value it cannot check.
 */
export function decodeState(
  text: string,
  managed: readonly Readonly<{ id: string; record: string }>[],
  now: number,
): { state: SavedState; warnings: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { state: emptyState, warnings: ['not JSON (corrupt or cut short)'] };
  }
  if (!isObject(raw)) return { state: emptyState, warnings: ['not a state object'] };
  const version = raw['version'];
  if (version !== 1 && version !== STATE_VERSION) {
    return {
      state: emptyState,
      warnings: [`written in format ${version === undefined ? 'none' : JSON.stringify(version)}, this agent reads 1 and 2`],
    };
  }
  const readEndpoint = version === 1 ? endpointV1 : endpointV2;
  const latest = now + FUTURE_SKEW_MS;
  const ahead = (t: number): string => `${String(Math.round((t - now) / 1000))}s ahead of this agent's clock`;
  const warnings: string[] = [];
  const backends: Record<string, SavedAnswer> = {};
  const foreign: string[] = [];
  const saved = isObject(raw['backends']) ? raw['backends'] : {};
  for (const [id, entry] of Object.entries(saved)) {
    const m = managed.find((b) => b.id === id);
    if (m === undefined) {
      foreign.push(id);
      continue;
    }
    const answer = savedAnswer(entry, readEndpoint);
    if (answer === null) warnings.push(`backend ${id}: answer unreadable`);
    else if (answer.record !== m.record) warnings.push(`backend ${id}: answer is for ${JSON.stringify(answer.record)}, not ${m.record}`);
    else if (answer.at > latest) warnings.push(`backend ${id}: answer dated ${ahead(answer.at)}`);
    else backends[id] = answer;
  }
  for (const w of notManaged(foreign)) warnings.push(w);
  const drains: Record<string, Record<string, Record<string, number>>> = {};
  let future = 0;
  let furthest = latest;
  for (const [socket, perBackend] of Object.entries(isObject(raw['drains']) ? raw['drains'] : {})) {
    if (!isObject(perBackend)) continue;
    for (const [id, servers] of Object.entries(perBackend)) {
      if (!managed.some((b) => b.id === id) || !isObject(servers)) continue;
      for (const [server, since] of Object.entries(servers)) {
        if (typeof since !== 'number' || !Number.isFinite(since)) continue;
        if (since > latest) {
          future++;
          furthest = Math.max(furthest, since);
          continue;
        }
        ((drains[socket] ??= {})[id] ??= {})[server] = since;
      }
    }
  }
  if (future > 0) warnings.push(`${String(future)} drain${future === 1 ? '' : 's'} started up to ${ahead(furthest)}`);
  return { state: { version, backends, drains }, warnings };
}

/** The backends in the file that this agent does not manage: named, the first few. */
function notManaged(ids: readonly string[]): string[] {
  const shown = ids.slice(0, 3).map((id) => `backend ${JSON.stringify(id)} is not managed by this agent`);
  return ids.length > 3 ? [...shown, `${String(ids.length - 3)} more backends are not managed by this agent`] : shown;
}

function savedAnswer(entry: unknown, readEndpoint: (e: unknown) => Endpoint | null): SavedAnswer | null {
  if (!isObject(entry) || typeof entry['record'] !== 'string' || !isFiniteNumber(entry['at']) || !Array.isArray(entry['endpoints'])) {
    return null;
  }
  const endpoints: Endpoint[] = [];
  for (const e of entry['endpoints'] as unknown[]) {
    const endpoint = readEndpoint(e);
    if (endpoint === null) return null;
    endpoints.push(endpoint);
  }
  return { record: entry['record'], at: entry['at'], endpoints };
}

/** Format 1: `{ target, address, port, weight, priority, ttl }`. */
function endpointV1(e: unknown): Endpoint | null {
  return isObject(e) ? checkedEndpoint(e['target'], e['address'], e['port'], e['weight'], e['priority'], e['ttl']) : null;
}

/** Format 2: `[target, address, port, weight, priority, ttl]`. */
function endpointV2(e: unknown): Endpoint | null {
  return Array.isArray(e) && e.length === 6 ? checkedEndpoint(e[0], e[1], e[2], e[3], e[4], e[5]) : null;
}

function checkedEndpoint(
  target: unknown,
  address: unknown,
  port: unknown,
  weight: unknown,
  priority: unknown,
  ttl: unknown,
): Endpoint | null {
  const ok =
    typeof target === 'string' &&
    isHostname(target) &&
    typeof address === 'string' &&
    isIPAddress(address) &&
    isInt(port, 1, 65_535) &&
    isInt(weight, 0, 65_535) &&
    isInt(priority, 0, 65_535) &&
    isInt(ttl, 0, 2 ** 31);
  return ok ? { target, address, port, weight, priority, ttl } : null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!isObject(v)) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys(v[k])]),
  );
}
