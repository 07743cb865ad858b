import { describe, expect, it } from 'vitest';
import { decodeState, encodeState, STATE_VERSION, type SavedState } from './saved-state.ts';

const endpoint = { target: 'pod-1.web', address: '10.1.0.1', port: 8080, weight: 10, priority: 0, ttl: 5 };
const managed = [{ id: 'be_app', record: '_http._tcp.web' }];
const state: SavedState = {
  version: STATE_VERSION,
  backends: { be_app: { record: '_http._tcp.web', at: 1_000, endpoints: [endpoint] } },
  drains: { '/run/admin.sock': { be_app: { srv3: 900 } } },
};

describe('the state file codec', () => {
  it('reads back what it wrote, and writes the same bytes for the same state', () => {
    const text = encodeState(state);
    expect(decodeState(text, managed)).toEqual({ state, warnings: [] });
    expect(encodeState(decodeState(text, managed).state)).toBe(text);
  });

  it.each([
    ['{"version":1,"backends":{"be_app":{"rec', 'not JSON (corrupt or cut short)'],
    ['', 'not JSON (corrupt or cut short)'],
    ['[]', 'not a state object'],
    ['{"version":2,"backends":{}}', 'written in format 2, this agent reads 1'],
  ])('ignores %j with a warning', (text, warning) => {
    expect(decodeState(text, managed)).toEqual({ state: { version: 1, backends: {}, drains: {} }, warnings: [warning] });
  });

  it('leaves out another backend, another record, and an answer it cannot check', () => {
    const other = {
      version: 1,
      backends: {
        be_other: { record: 'x', at: 1, endpoints: [] },
        be_app: { record: '_http._tcp.other', at: 1, endpoints: [endpoint] },
      },
      drains: { s: { be_other: { srv1: 5 } } },
    };
    expect(decodeState(JSON.stringify(other), managed).warnings).toEqual([
      'backend "be_other" is not managed by this agent',
      'backend be_app: answer is for "_http._tcp.other", not _http._tcp.web',
    ]);
    expect(decodeState(JSON.stringify(other), managed).state.drains).toEqual({});
    for (const bad of [{ address: '169.254.1.1; x' }, { target: 'a\nb' }, { port: 0 }, { weight: -1 }, { ttl: 'x' }]) {
      const text = JSON.stringify({
        ...state,
        backends: { be_app: { record: '_http._tcp.web', at: 1, endpoints: [{ ...endpoint, ...bad }] } },
      });
      expect(decodeState(text, managed).warnings, JSON.stringify(bad)).toEqual(['backend be_app: answer unreadable']);
    }
  });
});
