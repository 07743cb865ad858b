import { describe, expect, it } from 'vitest';
import { parseBackend } from '../config/values.ts';
import type { Snapshot } from '../haproxy/runtime.ts';
import type { Work } from './decide.ts';
import { SocketRecord } from './socket-detail.ts';

const SPEC = parseBackend('be_app=_http._tcp.web.default.svc.cluster.local');
const SNAP = { info: { pid: 1 }, backends: new Map(), layout: null } as unknown as Snapshot;

/** The part of a run's work the record reads: which servers the plan leaves draining. */
const draining = (...servers: string[]): Work[] =>
  [{ spec: SPEC, plan: { memory: { drainingSince: new Map(servers.map((s) => [s, 0])) } } }] as unknown as Work[];

describe('SocketRecord keeps the live sessions of draining servers only', () => {
  it('keeps the figure of each server the plan drains, and forgets it once its drain ended', () => {
    const r = new SocketRecord();
    r.planned(1_000, SNAP, draining('srv1'), new Map(), false);
    r.sessionsRead(
      1_000,
      new Map([
        ['be_app/srv1', 3],
        ['be_app/srv2', 7],
        ['be_other/srv1', 9],
      ]),
    );
    const sessions = (): unknown => Object.fromEntries(r.detail('s', { reachable: true } as never, null, false).sessions);
    expect(sessions()).toEqual({ 'be_app/srv1': { n: 3, at: 1_000 } });
    r.planned(2_000, SNAP, draining('srv1', 'srv2'), new Map(), false);
    expect(sessions()).toEqual({ 'be_app/srv1': { n: 3, at: 1_000 } });
    r.planned(3_000, SNAP, draining(), new Map(), false);
    expect(sessions()).toEqual({});
  });
});
