import { describe, expect, it } from 'vitest';
import { boundSavedEndpoints } from './answer-bounds.ts';
import { decodeState, encodeState, maxStateBytes, STATE_VERSION, type SavedState } from './saved-state.ts';
import type { Endpoint } from './types.ts';

const endpoint = { target: 'pod-1.web', address: '10.1.0.1', port: 8080, weight: 10, priority: 0, ttl: 5 };
const managed = [{ id: 'be_app', record: '_http._tcp.web' }];
const NOW = 1_000_000;
const state: SavedState = {
  version: STATE_VERSION,
  backends: { be_app: { record: '_http._tcp.web', at: NOW - 1_000, endpoints: [endpoint] } },
  drains: { '/run/admin.sock': { be_app: { srv3: NOW - 2_000 } } },
};
const empty = (version: 1 | 2): SavedState => ({ version, backends: {}, drains: {} });

/** A file as format 1 wrote it: keys sorted, indented by one space. */
function formatOne(s: unknown): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sorted)
      : typeof v === 'object' && v !== null
        ? Object.fromEntries(
            Object.entries(v)
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([k, x]) => [k, sorted(x)]),
          )
        : v;
  return `${JSON.stringify(sorted(s), null, 1)}\n`;
}

describe('the state file codec', () => {
  it('reads back what it wrote, and writes the same bytes for the same state', () => {
    const text = encodeState(state);
    expect(decodeState(text, managed, NOW)).toEqual({ state, warnings: [], dropped: {} });
    expect(encodeState(decodeState(text, managed, NOW).state)).toBe(text);
  });

  it('writes format 2: one line, each endpoint an array', () => {
    expect(encodeState(state)).toBe(
      '{"version":2,"backends":{"be_app":{"record":"_http._tcp.web","at":999000,' +
        '"endpoints":[["pod-1.web","10.1.0.1",8080,10,0,5]]}},"drains":{"/run/admin.sock":{"be_app":{"srv3":998000}}}}\n',
    );
  });

  it('reads a file of format 1 (endpoints as objects), as an agent upgraded in place finds it', () => {
    const text = formatOne({ ...state, version: 1 });
    expect(text).toContain('\n     "address": "10.1.0.1",\n');
    const read = decodeState(text, managed, NOW);
    expect(read).toEqual({ state: { ...state, version: 1 }, warnings: [], dropped: {} });
    expect(encodeState(read.state)).toBe(encodeState(state)); // written again as format 2
    const objectInTwo = JSON.stringify({ ...state, backends: { be_app: { ...state.backends['be_app'], endpoints: [endpoint] } } });
    expect(decodeState(objectInTwo, managed, NOW).warnings).toEqual(['backend be_app: answer unreadable']);
  });

  it.each([
    ['{"version":2,"backends":{"be_app":{"rec', 'not JSON (corrupt or cut short)'],
    ['', 'not JSON (corrupt or cut short)'],
    ['[]', 'not a state object'],
    ['{"version":3,"backends":{}}', 'written in format 3, this agent reads 1 and 2'],
    ['{"backends":{}}', 'written in format none, this agent reads 1 and 2'],
  ])('ignores %j with a warning', (text, warning) => {
    expect(decodeState(text, managed, NOW)).toEqual({ state: empty(2), warnings: [warning], dropped: {} });
  });

  it('leaves out another backend, another record, and an answer it cannot check', () => {
    const other = {
      version: 2,
      backends: {
        be_other: { record: 'x', at: 1, endpoints: [] },
        be_app: { record: '_http._tcp.other', at: 1, endpoints: [] },
      },
      drains: { s: { be_other: { srv1: 5 } } },
    };
    expect(decodeState(JSON.stringify(other), managed, NOW).warnings).toEqual([
      'backend be_app: answer is for "_http._tcp.other", not _http._tcp.web',
      'backend "be_other" is not managed by this agent',
    ]);
    expect(decodeState(JSON.stringify(other), managed, NOW).state.drains).toEqual({});
    const row = ['pod-1.web', '10.1.0.1', 8080, 10, 0, 5];
    for (const [at, value] of [
      [1, '169.254.1.1; x'],
      [0, 'a\nb'],
      [2, 0],
      [3, -1],
      [5, 'x'],
      [6, 1],
    ] as const) {
      const bad = row.slice();
      bad[at] = value;
      const text = JSON.stringify({ version: 2, backends: { be_app: { record: '_http._tcp.web', at: 1, endpoints: [bad] } } });
      expect(decodeState(text, managed, NOW).warnings, JSON.stringify(bad)).toEqual(['backend be_app: answer unreadable']);
    }
  });

  it('names a few backends it does not manage, and counts the rest', () => {
    const backends = Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`be_${String(i)}`, {}]));
    expect(decodeState(JSON.stringify({ version: 2, backends }), managed, NOW).warnings).toEqual([
      'backend "be_0" is not managed by this agent',
      'backend "be_1" is not managed by this agent',
      'backend "be_2" is not managed by this agent',
      '997 more backends are not managed by this agent',
    ]);
  });

  it('refuses an answer or a drain dated in the future beyond a minute of skew, and keeps one within it', () => {
    const text = encodeState({
      version: 2,
      backends: {
        be_app: { record: '_http._tcp.web', at: NOW + 30_000, endpoints: [endpoint] },
        be_ahead: { record: '_http._tcp.ahead', at: NOW + 3_600_000, endpoints: [endpoint] },
        be_never: { record: '_http._tcp.never', at: Number.MAX_SAFE_INTEGER, endpoints: [endpoint] },
      },
      drains: { s: { be_app: { srv1: NOW - 5_000, srv2: NOW + 60_000, srv3: NOW + 61_000, srv4: NOW + 7_200_000 } } },
    });
    const three = [...managed, { id: 'be_ahead', record: '_http._tcp.ahead' }, { id: 'be_never', record: '_http._tcp.never' }];
    const { state: read, warnings } = decodeState(text, three, NOW);
    expect(Object.keys(read.backends)).toEqual(['be_app']);
    expect(read.drains).toEqual({ s: { be_app: { srv1: NOW - 5_000, srv2: NOW + 60_000 } } });
    expect(warnings).toEqual([
      "backend be_ahead: answer dated 3600s ahead of this agent's clock",
      expect.stringMatching(/^backend be_never: answer dated \d+s ahead of this agent's clock$/),
      "2 drains started up to 7200s ahead of this agent's clock",
    ]);
    // The same file read an hour later: all of it is in the past.
    expect(decodeState(text, three, NOW + 3_600_000).state.backends['be_ahead']?.at).toBe(NOW + 3_600_000);
  });

  it('refuses a time that is not a finite number (1e999 reads as Infinity)', () => {
    const text = encodeState(state).replace('"at":999000', '"at":1e999');
    expect(decodeState(text, managed, NOW).warnings).toEqual(['backend be_app: answer unreadable']);
  });
});

describe('the bound on the state file', () => {
  // The longest target (253 bytes and the final dot), the longest address, the largest numbers.
  const label = 'a'.repeat(63);
  const worst = {
    target: `${label}.${label}.${label}.${'a'.repeat(61)}.`,
    address: 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255',
    port: 65_535,
    weight: 65_535,
    priority: 65_535,
    ttl: 2 ** 31,
  };
  const ids = ['be_app', 'be_api'];
  const full = (n: number): SavedState => ({
    version: STATE_VERSION,
    backends: Object.fromEntries(
      ids.map((id) => [
        id,
        // Each endpoint its own address:port (a repeated one is read once), every port five digits.
        { record: `_http._tcp.${id}`, at: NOW, endpoints: Array.from({ length: n }, (_, i) => ({ ...worst, port: worst.port - i })) },
      ]),
    ),
    drains: Object.fromEntries(
      ['/var/run/haproxy/admin.sock', '/var/run/haproxy/admin2.sock'].map((s) => [
        s,
        Object.fromEntries(
          ids.map((id) => [id, Object.fromEntries(Array.from({ length: n }, (_, i) => [`${'s'.repeat(94)}${String(i)}`, NOW]))]),
        ),
      ]),
    ),
  });

  it('holds every backend at the most endpoints with a drain each, in either format, and reads that file', () => {
    const bound = maxStateBytes(2, 2, 500);
    const two = encodeState(full(500));
    const one = formatOne({ ...full(500), version: 1 });
    expect(Buffer.byteLength(one)).toBeGreaterThan(Buffer.byteLength(two));
    expect(Buffer.byteLength(one)).toBeLessThanOrEqual(bound);
    const read = decodeState(
      one,
      ids.map((id) => ({ id, record: `_http._tcp.${id}` })),
      NOW,
    );
    expect([read.warnings, read.state.backends['be_api']?.endpoints.length]).toEqual([[], 500]);
    // ... and not much more: a bound of twice what can be written would let twice as much in.
    expect(Buffer.byteLength(one)).toBeGreaterThan(bound * 0.8);
  });

  it('grows with the endpoints allowed', () => {
    expect(maxStateBytes(1, 1, 4_096)).toBeGreaterThan(maxStateBytes(1, 1, 1_000));
    expect(maxStateBytes(2, 1, 4_096)).toBeGreaterThan(maxStateBytes(1, 1, 4_096));
  });
});

describe('a state file held to the bounds of a DNS answer', () => {
  const pod = (i: number, extra: Partial<Endpoint> = {}): Endpoint => ({
    target: `pod-${String(i)}.web`,
    address: `10.1.${String(i >> 8)}.${String(i & 255)}`,
    port: 8080,
    weight: 10,
    priority: 0,
    ttl: 5,
    ...extra,
  });
  const saved = (endpoints: readonly Endpoint[], drains: SavedState['drains'] = {}): string =>
    encodeState({ version: STATE_VERSION, backends: { be_app: { record: '_http._tcp.web', at: NOW, endpoints } }, drains });

  it('keeps --max-endpoints endpoints of an answer, the preferred ones, and says once how many it left out', () => {
    const ten = Array.from({ length: 10 }, (_, i) => pod(i + 1, { priority: i < 5 ? 10 : 0, weight: i }));
    const read = decodeState(saved(ten), managed, NOW, { maxEndpoints: 3 });
    // Priority 0 first, heaviest first, as the endpoints of a DNS answer are taken.
    expect(read.state.backends['be_app']?.endpoints.map((e) => e.address)).toEqual(['10.1.0.10', '10.1.0.9', '10.1.0.8']);
    expect(read.dropped).toEqual({ be_app: 7 });
    expect(read.warnings).toEqual([
      'backend be_app: answer holds more endpoints than the agent takes: 3 kept, 7 left out (at most --max-endpoints 3 per backend, and 64 addresses per SRV target)',
    ]);
  });

  it('takes 64 addresses of one target, the first in address order, and an address:port once', () => {
    const many = Array.from({ length: 100 }, (_, i) => pod(i + 1, { target: 'one.web' }));
    const { kept, dropped } = boundSavedEndpoints([...many].reverse(), 4096);
    expect(kept).toHaveLength(64);
    expect(dropped).toBe(36);
    expect(new Set(kept.map((e) => e.address))).toEqual(new Set([...many.map((e) => e.address)].sort().slice(0, 64)));
    const twice = boundSavedEndpoints([pod(1), pod(1, { weight: 1 }), pod(2)], 4096);
    expect([twice.kept.map((e) => [e.address, e.weight]), twice.dropped]).toEqual([
      [
        ['10.1.0.1', 10],
        ['10.1.0.2', 10],
      ],
      0,
    ]);
  });

  it('says counts and at most 64 characters of a name from the file: no warning grows with the file', () => {
    const long = `_http._tcp.${'x'.repeat(1_000_000)}`;
    const text = JSON.stringify({
      version: 2,
      backends: { be_app: { record: long, at: NOW, endpoints: [] }, [`be_${'y'.repeat(1_000_000)}`]: {} },
    });
    const { warnings } = decodeState(text, managed, NOW);
    expect(warnings).toHaveLength(2);
    for (const w of warnings) expect(w.length).toBeLessThan(200);
    expect(warnings[0]).toMatch(/^backend be_app: answer is for "_http\._tcp\.x+\.\.\. \(1000013 characters\), not _http\._tcp\.web$/);
    const huge = Array.from({ length: 65_000 }, (_, i) => pod(i));
    const capped = decodeState(saved(huge), managed, NOW);
    expect(capped.state.backends['be_app']?.endpoints).toHaveLength(4096);
    for (const w of capped.warnings) expect(w.length).toBeLessThan(300);
  });

  it("keeps the drains of this agent's sockets only, --max-endpoints a backend, of servers HAProxy could name", () => {
    const servers = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`srv${String(i + 1)}`, NOW - 1_000]));
    const text = saved([pod(1)], {
      '/run/admin.sock': { be_app: { ...servers, 'x;y': NOW - 1_000, ['s'.repeat(256)]: NOW - 1_000 } },
      '/run/other.sock': { be_app: { srv1: NOW - 1_000 } },
    });
    const read = decodeState(text, managed, NOW, { maxEndpoints: 3, sockets: ['/run/admin.sock'] });
    expect(read.state.drains).toEqual({ '/run/admin.sock': { be_app: { srv1: NOW - 1_000, srv2: NOW - 1_000, srv3: NOW - 1_000 } } });
    expect(read.warnings).toEqual(["4 drains left out: more than --max-endpoints 3 on a socket's backend, or not a server name"]);
  });
});
