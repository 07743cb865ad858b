import { boundSavedEndpoints } from './answer-bounds.ts';
import { isSafeName } from './commands.ts';
import { DEFAULT_MAX_ENDPOINTS, MAX_ADDRESSES_PER_TARGET } from './desired.ts';
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

/** What a state file is held to, as a DNS answer is: --max-endpoints, and the sockets this agent has. */
export type StateLimits = Readonly<{
  /** --max-endpoints: the most endpoints a saved answer gives a backend, the most drains a backend has on a socket. */
  maxEndpoints: number;
  /** The sockets' labels: drains of any other socket are left out. Absent: every socket's are read. */
  sockets?: readonly string[];
}>;

/** The longest server name a saved drain may carry (a HAProxy server name in practice is far shorter). */
const MAX_SERVER_NAME = 255;

/** The most characters of a name read from the file that a warning shows: no line grows with the file. */
const SHOWN = 64;

/**
 * Reads a state file's text, format 1 or 2. Anything that is not what the agent writes,
 * for the backends it manages, is left out with a warning, and so is a time more than
 * FUTURE_SKEW_MS ahead of `now` (an answer or a drain dated there would be held for
 * ever): the file is a hint, never a reason to fail or to trust a value it cannot check.
 * What it holds is held to the bounds of a DNS answer (`limits`, boundSavedEndpoints): what
 * passes them is left out, said once a backend and counted in `dropped`. Warnings show
 * counts and at most SHOWN characters of a name from the file.
 */
export function decodeState(
  text: string,
  managed: readonly Readonly<{ id: string; record: string }>[],
  now: number,
  limits: StateLimits = { maxEndpoints: DEFAULT_MAX_ENDPOINTS },
): { state: SavedState; warnings: string[]; dropped: Record<string, number> } {
  const dropped: Record<string, number> = {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { state: emptyState, warnings: ['not JSON (corrupt or cut short)'], dropped };
  }
  if (!isObject(raw)) return { state: emptyState, warnings: ['not a state object'], dropped };
  const version = raw['version'];
  if (version !== 1 && version !== STATE_VERSION) {
    return {
      state: emptyState,
      warnings: [`written in format ${version === undefined ? 'none' : shown(JSON.stringify(version))}, this agent reads 1 and 2`],
      dropped,
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
    else if (answer.record !== m.record)
      warnings.push(`backend ${id}: answer is for ${shown(JSON.stringify(answer.record))}, not ${m.record}`);
    else if (answer.at > latest) warnings.push(`backend ${id}: answer dated ${ahead(answer.at)}`);
    else {
      const capped = boundSavedEndpoints(answer.endpoints, limits.maxEndpoints);
      if (capped.dropped > 0) {
        dropped[id] = capped.dropped;
        warnings.push(
          `backend ${id}: answer holds more endpoints than the agent takes: ${String(capped.kept.length)} kept, ${String(capped.dropped)} left out (at most --max-endpoints ${String(limits.maxEndpoints)} per backend, and ${String(MAX_ADDRESSES_PER_TARGET)} addresses per SRV target)`,
        );
      }
      backends[id] = { ...answer, endpoints: capped.kept };
    }
  }
  for (const w of notManaged(foreign)) warnings.push(w);
  const drains: Record<string, Record<string, Record<string, number>>> = {};
  let future = 0;
  let furthest = latest;
  let left = 0;
  for (const [socket, perBackend] of Object.entries(isObject(raw['drains']) ? raw['drains'] : {})) {
    if (!isObject(perBackend) || (limits.sockets !== undefined && !limits.sockets.includes(socket))) continue;
    for (const [id, servers] of Object.entries(perBackend)) {
      if (!managed.some((b) => b.id === id) || !isObject(servers)) continue;
      let kept = 0;
      for (const [server, since] of Object.entries(servers)) {
        if (typeof since !== 'number' || !Number.isFinite(since)) continue;
        if (since > latest) {
          future++;
          furthest = Math.max(furthest, since);
          continue;
        }
        // A drain per server a backend may have; a name HAProxy could not have is no server's.
        if (kept >= limits.maxEndpoints || server.length > MAX_SERVER_NAME || !isSafeName(server)) {
          left++;
          continue;
        }
        kept++;
        ((drains[socket] ??= {})[id] ??= {})[server] = since;
      }
    }
  }
  if (future > 0) warnings.push(`${String(future)} drain${future === 1 ? '' : 's'} started up to ${ahead(furthest)}`);
  if (left > 0)
    warnings.push(
      `${String(left)} drain${left === 1 ? '' : 's'} left out: more than --max-endpoints ${String(limits.maxEndpoints)} on a socket's backend, or not a server name`,
    );
  return { state: { version, backends, drains }, warnings, dropped };
}

/** A name read from the file, as a warning shows it: its first SHOWN characters. */
const shown = (text: string): string => (text.length > SHOWN ? `${text.slice(0, SHOWN)}... (${String(text.length)} characters)` : text);

/** The backends in the file that this agent does not manage: named, the first few. */
function notManaged(ids: readonly string[]): string[] {
  const named = ids.slice(0, 3).map((id) => `backend ${shown(JSON.stringify(id))} is not managed by this agent`);
  return ids.length > 3 ? [...named, `${String(ids.length - 3)} more backends are not managed by this agent`] : named;
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
