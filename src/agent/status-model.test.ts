import { describe, expect, it } from 'vitest';
import { agentHarness, SRV, TableDns } from '../../test/support/agent-harness.ts';
import { ADMIN, FakeHaproxy, slot, slots } from '../../test/support/fake-haproxy.ts';
import type { Endpoint } from '../core/types.ts';
import type { SerialView } from '../dns/serial-trust.ts';
import { renderStatusHtml } from '../observability/status-page.ts';
import type { PodRow, ServerRow, StatusModel } from './status-shape.ts';

const pod = (n: number, o: Partial<Endpoint> = {}): Endpoint => ({
  target: `pod-${String(n)}.web`,
  address: `10.1.0.${String(n)}`,
  port: 8080,
  weight: 10,
  priority: 0,
  ttl: 5,
  ...o,
});

function haproxy(n: number): FakeHaproxy {
  const h = new FakeHaproxy({ be_app: slots(n) });
  h.version = '2.6.12';
  h.pid = 100;
  return h;
}

/** The pods of the one backend on the one socket, by address:port (or by state for the unnamed ones). */
function podsOf(m: StatusModel): Map<string, PodRow> {
  const rows = m.backends[0]?.sockets[0]?.pods.rows ?? [];
  return new Map(rows.map((r) => [r.endpoint ?? r.state, r]));
}

describe('the status model names each pod and says why in words', () => {
  it('in force, no slot, refused by the address policy, over --max-endpoints', async () => {
    const h = haproxy(2);
    const dns = new TableDns();
    // The resolver left 2 more out for --max-endpoints, and names one (the other, say, an address past a target's bound).
    const { agent, clock } = agentHarness([h], {
      resolve: (spec) => dns.resolve(spec).then((a) => (a.status === 'ok' ? { ...a, dropped: 2, overCap: ['pod-7.web:8080'] } : a)),
    });
    dns.answers.set(SRV, [pod(1), pod(2), pod(3), pod(4, { address: '127.0.0.1', target: 'loop.web' })]);
    expect((await agent.pass()).ok).toBe(false); // a pod without a slot is a problem
    const m = agent.statusModel(clock.now);
    const pods = podsOf(m);
    expect(pods.get('10.1.0.1:8080')).toMatchObject({ target: 'pod-1.web', server: 'srv1', state: 'in-force' });
    expect(pods.get('10.1.0.1:8080')?.reason).toBe('in force: served by slot srv1');
    expect(pods.get('10.1.0.3:8080')).toMatchObject({ target: 'pod-3.web', server: null, state: 'no-slot' });
    expect(pods.get('10.1.0.3:8080')?.reason).toMatch(/^no slot: 2 of 2 slots in use, 1 waiting for a slot/);
    expect(pods.get('127.0.0.1:8080 (loop.web)')).toMatchObject({ state: 'refused' });
    expect(pods.get('127.0.0.1:8080 (loop.web)')?.reason).toMatch(
      /^refused by the address policy: loopback \(.*--allow-net 127\.0\.0\.0\/8/,
    );
    const over = [...pods.values()].filter((r) => r.state === 'over-cap');
    expect(over).toEqual([
      {
        endpoint: null,
        target: 'pod-7.web',
        server: null,
        state: 'over-cap',
        reason: expect.stringMatching(/^over the cap: left out of the answer \(--max-endpoints \d+\), port 8080$/) as unknown,
      },
    ]);
    expect(m.backends[0]?.dns).toMatchObject({
      status: 'ok',
      endpointsInForce: 3,
      refused: 1,
      overCap: 2,
      ttlSeconds: 5,
      serialDistrusted: false,
    });
    expect(m.sockets[0]).toMatchObject({ socket: 'memory', reachable: true, version: '2.6.12', pid: 100, levelAdmin: true });
    expect(m.changes.map((c) => `${c.server} ${c.reason}`)).toEqual(['srv1 new endpoint', 'srv2 new endpoint']);
  });

  it('says which nameserver gave the answer held and how fast, read when the page asks', async () => {
    let by: { host: string; rttMs: number } | null = null;
    let asked = 0;
    const { agent, dns, clock } = agentHarness([haproxy(2)], {
      answeredBy: () => {
        asked++;
        return by === null ? null : { ns: { host: by.host, port: 53 }, rttMs: by.rttMs };
      },
    });
    expect(agent.statusModel(clock.now).backends[0]?.dns).toMatchObject({ nameserver: null, roundTripMs: null });
    dns.answers.set(SRV, [pod(1)]);
    by = { host: '10.96.0.10', rttMs: 3.4 };
    asked = 0;
    await agent.pass();
    expect(asked).toBe(0); // read when the page asks, not by the runs
    expect(agent.statusModel(clock.now).backends[0]?.dns).toMatchObject({ nameserver: '10.96.0.10:53', roundTripMs: 3 });
    by = { host: 'fd00::53', rttMs: 12 };
    expect(agent.statusModel(clock.now).backends[0]?.dns).toMatchObject({ nameserver: '[fd00::53]:53', roundTripMs: 12 });
    by = { host: '<b>ns</b>', rttMs: 1 }; // never configured so, and never printed so
    expect(agent.statusModel(clock.now).backends[0]?.dns.nameserver).toBeNull();
  });

  it("says the zone's serial and whether it is trusted, or that it is not watched", async () => {
    const dns = new TableDns();
    dns.answers.set(SRV, [pod(1)]);
    const plain = agentHarness([haproxy(2)], { resolve: dns.resolve });
    await plain.agent.pass();
    expect(plain.agent.statusModel(plain.clock.now).backends[0]?.dns.serial).toEqual({
      watched: false,
      serial: null,
      trusted: false,
      says: 'not watched',
    });
    let view: SerialView = { serial: 2026120501, trusted: true, why: null };
    const asked: string[] = [];
    const watched = agentHarness([haproxy(2)], {
      resolve: dns.resolve,
      serialView: (name) => {
        asked.push(name);
        return view;
      },
    });
    await watched.agent.pass();
    expect(asked).toEqual([]); // read when the page asks, not by the runs
    const model = watched.agent.statusModel(watched.clock.now);
    expect(asked).toEqual([SRV]);
    expect(model.backends[0]?.dns.serial).toEqual({ watched: true, serial: 2026120501, trusted: true, says: 'trusted' });
    expect(renderStatusHtml(model)).toContain('zone serial 2026120501, trusted');
    view = { serial: 2026120501, trusted: false, why: 'it stood still while the records changed' };
    expect(watched.agent.statusModel(watched.clock.now).backends[0]?.dns.serial.says).toBe(
      'not trusted (it stood still while the records changed)',
    );
  });

  it('counts what the answer left out over the cap when it names none, and says the serial is distrusted', async () => {
    const dns = new TableDns();
    const { agent, clock } = agentHarness([haproxy(2)], {
      resolve: (spec) => dns.resolve(spec).then((a) => (a.status === 'ok' ? { ...a, dropped: 3, serialDistrusted: true } : a)),
    });
    dns.answers.set(SRV, [pod(1)]);
    await agent.pass();
    expect(agent.statusModel(clock.now).backends[0]?.dns.serialDistrusted).toBe(true);
    expect(podsOf(agent.statusModel(clock.now)).get('over-cap')?.reason).toMatch(
      /^3 in DNS over the cap \(--max-endpoints \d+\): left out of the answer$/,
    );
  });

  it('draining since and until, and waiting for its health check', async () => {
    const h = haproxy(3);
    const { agent, dns, clock } = agentHarness([h], { drainMs: 30_000 });
    dns.answers.set(SRV, [pod(1), pod(2)]);
    await agent.pass();
    const left = clock.now;
    const srv1 = h.servers[0];
    if (srv1 === undefined) throw new Error('no srv1');
    srv1.sessions = 3; // HAProxy counts 3 live sessions on it as its pod leaves DNS
    dns.answers.set(SRV, [pod(2)]);
    await agent.pass();
    srv1.sessions = 1; // no new read: the page shows the figure read as the drain started
    // srv2's check fails: HAProxy says down.
    const srv2 = h.servers[1];
    if (srv2 === undefined) throw new Error('no srv2');
    srv2.checked = true;
    srv2.opState = 0;
    clock.now += 10_001; // past the drift check: the lane reads the servers again
    await agent.pass();
    const m = agent.statusModel(clock.now);
    const pods = podsOf(m);
    const until = new Date(left + 30_000).toISOString().slice(11, 19);
    expect(pods.get('10.1.0.1:8080')).toMatchObject({ server: 'srv1', state: 'draining' });
    expect(pods.get('10.1.0.1:8080')?.reason).toBe(
      `its pod left DNS: draining on slot srv1 since ${new Date(left).toISOString().slice(11, 19)} UTC until ${until} UTC at the latest, for its 3 sessions (read at ${new Date(left).toISOString().slice(11, 19)} UTC)`,
    );
    expect(pods.get('10.1.0.2:8080')).toMatchObject({ target: 'pod-2.web', server: 'srv2', state: 'waiting-check' });
    expect(pods.get('10.1.0.2:8080')?.reason).toBe('on slot srv2, waiting for its health check: HAProxy says down, sends it no traffic');
    const servers = m.backends[0]?.sockets[0]?.servers.rows ?? [];
    expect(servers.map((s) => `${s.server} ${s.state} ${s.check}`)).toEqual([
      'srv1 draining not checked',
      'srv2 waiting-check down',
      'srv3 free not checked',
    ]);
    expect(servers[0]).toMatchObject({
      drainingSince: new Date(left).toISOString(),
      drainingUntil: new Date(left + 30_000).toISOString(),
      liveSessions: 3,
      liveSessionsAt: new Date(left).toISOString(),
    });
    expect(servers[1]).toMatchObject({ liveSessions: null, liveSessionsAt: null }); // not draining: not kept
  });

  it("says a drain's sessions are unknown when they were not read", async () => {
    // srv1 drains 10.1.0.9:8080 already (the agent restarted without --state-file): nothing read its sessions.
    const h = new FakeHaproxy({
      be_app: [slot('srv1', { address: '10.1.0.9', port: 8080, admin: ADMIN.drain, opState: 2 }), ...slots(2).slice(1)],
    });
    h.version = '2.6.12';
    const { agent, dns, clock } = agentHarness([h], { drainMs: 30_000 });
    dns.answers.set(SRV, [pod(2)]);
    await agent.pass();
    const row = (): ServerRow | undefined => agent.statusModel(clock.now).backends[0]?.sockets[0]?.servers.rows[0];
    expect(row()).toMatchObject({ server: 'srv1', state: 'draining', liveSessions: null });
    expect(row()?.reason).toMatch(/at the latest, sessions unknown$/);
  });

  it('a server added at run time, and a pod new in DNS not yet planned', async () => {
    const h = haproxy(1);
    const { agent, dns, clock } = agentHarness([h], { dynamic: true });
    dns.answers.set(SRV, [pod(1), pod(2)]);
    await agent.pass();
    const m = agent.statusModel(clock.now);
    expect(m.sockets[0]?.dynamicServers).toBe('on');
    expect(podsOf(m).get('10.1.0.2:8080')).toMatchObject({ server: 'srv-a1', state: 'in-force' });
    expect(podsOf(m).get('10.1.0.2:8080')?.reason).toBe('in force: served by srv-a1 (a server added at run time)');
    const added = m.backends[0]?.sockets[0]?.servers.rows.find((s) => s.server === 'srv-a1');
    expect(added).toMatchObject({ kind: 'added', endpoint: '10.1.0.2:8080', admin: 'ready' });
    expect(m.changes.some((c) => c.action === 'added' && c.server === 'srv-a1')).toBe(true);
  });

  it('says --dynamic-servers is unsupported by a HAProxy that cannot add servers', async () => {
    const h = haproxy(1);
    h.version = '2.2.0';
    const { agent, dns, clock } = agentHarness([h], { dynamic: true });
    dns.answers.set(SRV, [pod(1), pod(2)]);
    await agent.pass();
    const m = agent.statusModel(clock.now);
    expect(m.sockets[0]?.dynamicServers).toBe('unsupported');
    expect(podsOf(m).get('10.1.0.2:8080')?.state).toBe('no-slot');
  });

  it('keeps the last 50 changes, newest last', async () => {
    const h = haproxy(1);
    const { agent, dns, clock } = agentHarness([h], { drainMs: 0 });
    for (let i = 1; i <= 60; i++) {
      dns.answers.set(SRV, [pod(i)]);
      await agent.pass();
      clock.now += 1_000;
    }
    const changes = agent.statusModel(clock.now).changes;
    expect(changes).toHaveLength(50);
    expect(changes.at(-1)).toMatchObject({ server: 'srv1', target: 'pod-60.web', action: 'set' });
    expect(changes[0]?.to).toMatch(/^10\.1\.0\.11:8080 ready/);
  });
});
