import { isIPAddress } from './ip.ts';
import { isHostname } from './names.ts';
import type { Endpoint } from './types.ts';

/**
 * What the agent keeps across a restart (`--state-file`): per backend, the last good DNS
 * answer and when it came; per socket and backend, when each running drain started. With
 * it, an agent restarted during a DNS outage (with HAProxy, the emptyDir kept) still has
 * an answer to hold, and a drain keeps its clock.
 */
export const STATE_VERSION = 1;

export type SavedAnswer = Readonly<{ record: string; at: number; endpoints: readonly Endpoint[] }>;

export type SavedState = Readonly<{
  version: typeof STATE_VERSION;
  /** Backend id -> its last good answer. */
  backends: Readonly<Record<string, SavedAnswer>>;
  /** Socket -> backend id -> server -> when its drain started (ms since the epoch). */
  drains: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, number>>>>>>;
}>;

export const emptyState: SavedState = { version: STATE_VERSION, backends: {}, drains: {} };

/** Stable text: the same state always gives the same bytes. */
export function encodeState(s: SavedState): string {
  return `${JSON.stringify(sortKeys(s), null, 1)}\n`;
}

/**
 * Reads a state file's text. Anything that is not what this version writes, for the
 * backends it manages, is left out with a warning: the file is a hint, never a reason
 * to fail or to trust a value it cannot check.
 */
export function decodeState(
  text: string,
  managed: readonly Readonly<{ id: string; record: string }>[],
): { state: SavedState; warnings: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { state: emptyState, warnings: ['not JSON (corrupt or cut short)'] };
  }
  if (!isObject(raw)) return { state: emptyState, warnings: ['not a state object'] };
  if (raw['version'] !== STATE_VERSION) {
    return {
      state: emptyState,
      warnings: [`written in format ${JSON.stringify(raw['version'])}, this agent reads ${String(STATE_VERSION)}`],
    };
  }
  const warnings: string[] = [];
  const backends: Record<string, SavedAnswer> = {};
  const saved = isObject(raw['backends']) ? raw['backends'] : {};
  for (const [id, entry] of Object.entries(saved)) {
    const m = managed.find((b) => b.id === id);
    if (m === undefined) {
      warnings.push(`backend ${JSON.stringify(id)} is not managed by this agent`);
      continue;
    }
    const answer = savedAnswer(entry);
    if (answer === null) warnings.push(`backend ${id}: answer unreadable`);
    else if (answer.record !== m.record) warnings.push(`backend ${id}: answer is for ${JSON.stringify(answer.record)}, not ${m.record}`);
    else backends[id] = answer;
  }
  const drains: Record<string, Record<string, Record<string, number>>> = {};
  for (const [socket, perBackend] of Object.entries(isObject(raw['drains']) ? raw['drains'] : {})) {
    if (!isObject(perBackend)) continue;
    for (const [id, servers] of Object.entries(perBackend)) {
      if (!managed.some((b) => b.id === id) || !isObject(servers)) continue;
      for (const [server, since] of Object.entries(servers)) {
        if (typeof since !== 'number' || !Number.isFinite(since)) continue;
        ((drains[socket] ??= {})[id] ??= {})[server] = since;
      }
    }
  }
  return { state: { version: STATE_VERSION, backends, drains }, warnings };
}

function savedAnswer(entry: unknown): SavedAnswer | null {
  if (!isObject(entry) || typeof entry['record'] !== 'string' || typeof entry['at'] !== 'number' || !Array.isArray(entry['endpoints'])) {
    return null;
  }
  const endpoints: Endpoint[] = [];
  for (const e of entry['endpoints'] as unknown[]) {
    const ok =
      isObject(e) &&
      typeof e['target'] === 'string' &&
      isHostname(e['target']) &&
      typeof e['address'] === 'string' &&
      isIPAddress(e['address']) &&
      isInt(e['port'], 1, 65_535) &&
      isInt(e['weight'], 0, 65_535) &&
      isInt(e['priority'], 0, 65_535) &&
      isInt(e['ttl'], 0, 2 ** 31);
    if (!ok) return null;
    endpoints.push({
      target: e['target'] as string,
      address: e['address'] as string,
      port: e['port'] as number,
      weight: e['weight'] as number,
      priority: e['priority'] as number,
      ttl: e['ttl'] as number,
    });
  }
  return { record: entry['record'], at: entry['at'], endpoints };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number, max: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!isObject(v)) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys(v[k])]),
  );
}
