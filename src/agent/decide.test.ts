import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ADMIN, FakeHaproxy, slot, stateOf, type FakeServer } from '../../test/support/fake-haproxy.ts';
import { parseBackend } from '../config/values.ts';
import { bestPriority, normalizeEndpoints } from '../core/desired.ts';
import { addedServerId } from '../core/dynamic.ts';
import { emptyMemory, type SlotMemory, type WeightPolicy } from '../core/plan.ts';
import { endpointKey, type AdminState, type Endpoint, type Slot } from '../core/types.ts';
import type { Finding } from '../core/findings.ts';
import { addedChecks, dynamicAllowed } from './checks.ts';
import { command, renderStep } from '../core/commands.ts';
import type { HaproxyRuntime } from '../haproxy/runtime.ts';
import { planBackends, planWork, slotsOf, type BackendServers, type Work } from './decide.ts';
import { freeSlot } from '../../test/support/slots.ts';

const spec = parseBackend('be_app=_http._tcp.web.default.svc.cluster.local');
/** The same backend, its slots the `srv<N>` of a server-template: other servers are not the agent's. */
const prefixed = parseBackend('be_app/srv=_http._tcp.web.default.svc.cluster.local');

const ep = (n: number, extra: Partial<Endpoint> = {}): Endpoint => ({
  target: `pod-${String(n)}.web`,
  address: `10.0.0.${String(n)}`,
  port: 8080,
  weight: 10,
  priority: 0,
  ttl: 5,
  ...extra,
});

type PassOptions = {
  now?: number;
  drainMs?: number;
  memory?: SlotMemory;
  maxServers?: number;
  weights?: WeightPolicy;
  backend?: typeof spec;
};

/** The command script of a backend's work (none without work). */
const script = (w: Work | undefined): string[] => (w?.steps ?? []).map(renderStep);

/** HAProxy 2.6 with the backends given, its socket named `memory`. */
const haproxy = (backends: Record<string, FakeServer[]>): FakeHaproxy => {
  const h = new FakeHaproxy(backends);
  h.version = '2.6.12';
  return h;
};

/** The runtime over `h`, one per fake: it keeps what it read of the process, as the agent's does. */
const ports = new WeakMap<FakeHaproxy, HaproxyRuntime>();
const portOf = (h: FakeHaproxy): HaproxyRuntime => {
  const port = ports.get(h) ?? h.port();
  ports.set(h, port);
  return port;
};

/** One socket-lane pass with --dynamic-servers against `h`: observe, plan, apply. */
async function pass(h: FakeHaproxy, endpoints: readonly Endpoint[], o: PassOptions = {}) {
  const b = o.backend ?? spec;
  const port = portOf(h);
  const snap = await port.observe([b.backend]);
  const { servers } = slotsOf(h.label, snap, b);
  if (servers === null) throw new Error('no backend');
  const planned = planWork(h.label, { spec: b, endpoints }, servers, {
    now: o.now ?? 1_000_000,
    drainMs: o.drainMs ?? 30_000,
    weights: o.weights ?? 'srv',
    memory: o.memory,
    resync: false,
    dynamic: true,
    maxServers: o.maxServers ?? 4096,
    addedChecks: addedChecks(snap),
  });
  const results = await port.apply(planned.work.steps.map((step) => command(b.id, step)));
  return { ...planned, results };
}

/** The id the agent gives `name` when it adds it to `h`'s be_app. */
const idOf = (h: FakeHaproxy, name: string): number =>
  addedServerId({ pid: h.pid, startTimeSec: h.startTime, backend: spec.backend }, name);

/** A server as an earlier agent beside the same HAProxy process added it: its name, and the id derived for it. */
const addedByAgent = (h: FakeHaproxy, name: string, extra: Partial<FakeServer> = {}): FakeServer =>
  slot(name, { id: idOf(h, name), ...extra });

const servers = (h: FakeHaproxy): FakeServer[] => h.backends.get(spec.backend)?.servers ?? [];

describe('planWork with --dynamic-servers: SRV priorities', () => {
  it('adds what the backup slots cannot hold as backup servers, then sends nothing, pass after pass', async () => {
    const h = haproxy({ be_app: [slot('srv1'), slot('srv2'), slot('srv3', { backup: true })] });
    const endpoints = normalizeEndpoints([ep(1), ep(2), ep(3, { priority: 10 }), ep(4, { priority: 10 }), ep(5, { priority: 10 })]);
    const first = await pass(h, endpoints);
    expect(script(first.work).filter((c) => c.startsWith('add server'))).toEqual([
      `add server be_app/srv-a1 10.0.0.4:8080 id ${String(idOf(h, 'srv-a1'))} backup`,
      `add server be_app/srv-a2 10.0.0.5:8080 id ${String(idOf(h, 'srv-a2'))} backup`,
    ]);
    expect(first.results.every((r) => r.verdict.ok)).toBe(true);
    expect(servers(h).map((s) => [s.name, `${s.address}:${String(s.port)}`, stateOf(s), s.backup])).toEqual([
      ['srv1', '10.0.0.1:8080', 'ready', false],
      ['srv2', '10.0.0.2:8080', 'ready', false],
      ['srv3', '10.0.0.3:8080', 'ready', true],
      ['srv-a1', '10.0.0.4:8080', 'ready', true],
      ['srv-a2', '10.0.0.5:8080', 'ready', true],
    ]);
    const sent = h.writes().length;
    for (let i = 0; i < 2; i++) {
      const again = await pass(h, endpoints, { memory: first.work.plan.memory, now: 1_000_000 + (i + 1) * 4_000 });
      expect(script(again.work)).toEqual([]);
    }
    expect(h.writes().length).toBe(sent);
    expect(servers(h)).toHaveLength(5);
  });

  it('adds the less preferred endpoints as backup servers when the backend declares no backup slots', async () => {
    const h = haproxy({ be_app: [slot('srv1'), slot('srv2')] });
    const endpoints = normalizeEndpoints([ep(1), ep(2, { priority: 10 }), ep(3, { priority: 20 })]);
    const first = await pass(h, endpoints);
    expect(first.findings.map((f) => f.kind)).toEqual([]);
    expect(script(first.work).filter((c) => c.startsWith('add server'))).toEqual([
      `add server be_app/srv-a1 10.0.0.2:8080 id ${String(idOf(h, 'srv-a1'))} backup`,
      `add server be_app/srv-a2 10.0.0.3:8080 id ${String(idOf(h, 'srv-a2'))} backup`,
    ]);
    expect(script((await pass(h, endpoints, { memory: first.work.plan.memory })).work)).toEqual([]);
  });
});

describe('planWork with --dynamic-servers on HAProxy 2.4', () => {
  it('adds servers without check or enable health, which 2.4 refuses, and says once that they have no health checks', async () => {
    const checked = (name: string, backup = false): FakeServer => slot(name, { backup, checked: true });
    const h = haproxy({ be_app: [checked('srv1')] });
    h.version = '2.4.1';
    const r = await pass(h, normalizeEndpoints([ep(1), ep(2)]));
    expect(script(r.work).filter((c) => /^add server|^enable health/.test(c))).toEqual([
      `add server be_app/srv-a1 10.0.0.2:8080 id ${String(idOf(h, 'srv-a1'))}`,
    ]);
    expect(r.results.filter((x) => !x.verdict.ok)).toEqual([]);
    expect(h.ready()).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
    const findings: Finding[] = [];
    expect(dynamicAllowed('memory', await portOf(h).observe([spec.backend]), findings)).toBe(true);
    expect(findings).toEqual([{ kind: 'added-unchecked', socket: 'memory', version: '2.4.1' }]);
    h.version = '2.5.0';
    findings.length = 0;
    dynamicAllowed('memory', await portOf(h).observe([spec.backend]), findings);
    expect(findings).toEqual([]);
  });

  it('adds no server on 2.4.0, whose del server leaves the server in its index of ids, and says so', async () => {
    const h = haproxy({ be_app: [slot('srv1')] });
    h.version = '2.4.0';
    const findings: Finding[] = [];
    expect(dynamicAllowed('memory', await portOf(h).observe([spec.backend]), findings)).toBe(false);
    expect(findings).toEqual([
      {
        kind: 'dynamic-unsupported',
        socket: 'memory',
        version: '2.4.0',
        reason: 'it keeps a deleted server in its index of server ids; fixed in 2.4.1',
      },
    ]);
    h.version = '2.4.10';
    expect(dynamicAllowed('memory', await portOf(h).observe([spec.backend]), [])).toBe(true);
  });
});

describe('slotsOf: the servers the agent manages, and no other', () => {
  it('takes the slots a server-template makes of the prefix and the servers it added itself, and leaves every other alone', async () => {
    const h = haproxy({ be_app: [slot('srv1'), slot('srv2')] });
    const backend = h.backends.get('be_app');
    backend?.servers.push(
      slot('srv-a1'), // a static server of the added form
      slot('srv-a7', { address: '10.9.0.7', port: 80, admin: ADMIN.ready, opState: 2 }), // one that serves
      slot('srvx'), // a static server the prefix starts
      slot('srv01'), // not a name a template makes
      slot('srv-a2', { id: 77 }), // someone else's added server
      addedByAgent(h, 'srv-a3'), // the agent's own
    );
    const { servers } = slotsOf(h.label, await portOf(h).observe(['be_app']), prefixed);
    expect(servers?.slots.map((s) => [s.name, s.added])).toEqual([
      ['srv1', false],
      ['srv2', false],
      ['srv-a3', true],
    ]);
    expect([...(servers?.taken.names ?? [])]).toEqual(['srv1', 'srv2', 'srv-a1', 'srv-a7', 'srvx', 'srv01', 'srv-a2', 'srv-a3']);
    // Without a prefix every server is a slot, but only the agent's own is an added one.
    const all = slotsOf(h.label, await portOf(h).observe(['be_app']), spec).servers?.slots ?? [];
    expect(all.filter((s) => s.added).map((s) => s.name)).toEqual(['srv-a3']);
    expect(all).toHaveLength(8);
    // The same server after a reload (a new process) is not the agent's: its id was derived from the old one.
    h.pid++;
    expect(slotsOf(h.label, await portOf(h).observe(['be_app']), prefixed).servers?.slots.map((s) => s.name)).toEqual(['srv1', 'srv2']);
  });
});

describe('planWork with --dynamic-servers: servers the agent did not add', () => {
  it('never deletes, drains, re-addresses or re-weights them, and adds beside them under names they do not have', async () => {
    const h = haproxy({
      be_app: [
        slot('srv1'),
        slot('srv-a1'),
        slot('srv-a7', { address: '10.9.0.7', port: 80, admin: ADMIN.ready, opState: 2 }),
        slot('srv-a2', { address: '10.9.0.2', port: 80, admin: ADMIN.ready, opState: 2, id: 77 }),
      ],
    });
    const before = structuredClone(servers(h).slice(1));
    let memory: SlotMemory = emptyMemory;
    let now = 1_000_000;
    for (const endpoints of [[ep(1), ep(2), ep(3)], [ep(4)], []].map((l) => normalizeEndpoints(l))) {
      for (let i = 0; i < 3; i++) {
        const r = await pass(h, endpoints, { backend: prefixed, drainMs: 0, memory, now });
        memory = r.work.plan.memory;
        now += 1_000;
        expect(script(r.work).filter((c) => /srv-a[127]\b/.test(c))).toEqual([]);
        expect(r.results.filter((x) => !x.verdict.ok)).toEqual([]);
      }
      expect(
        h
          .ready()
          .filter((k) => k.startsWith('10.0.0.'))
          .sort(),
      ).toEqual(endpoints.map(endpointKey).sort());
    }
    expect(servers(h).filter((s) => ['srv-a1', 'srv-a7', 'srv-a2'].includes(s.name))).toEqual(before);
    expect(h.received.filter((c) => c.startsWith('add server')).map((c) => c.split(' ')[2])).toEqual(['be_app/srv-a3', 'be_app/srv-a4']);
  });

  it('adds servers for new endpoints while the slots drain, and cuts a drain only at --max-endpoints', async () => {
    const h = haproxy({ be_app: [slot('srv1'), slot('srv2')] });
    const first = await pass(h, normalizeEndpoints([ep(1), ep(2)]));
    const next = normalizeEndpoints([ep(3), ep(4)]);
    const r = await pass(h, next, { memory: first.work.plan.memory, now: 1_001_000 });
    expect(r.findings).toEqual([]);
    expect(r.work.plan.drainsCut).toEqual([]);
    expect(servers(h).map((s) => [s.name, `${s.address}:${String(s.port)}`, stateOf(s)])).toEqual([
      ['srv1', '10.0.0.1:8080', 'drain'],
      ['srv2', '10.0.0.2:8080', 'drain'],
      ['srv-a1', '10.0.0.3:8080', 'ready'],
      ['srv-a2', '10.0.0.4:8080', 'ready'],
    ]);
    // At the cap (3 servers in all): one server added, one drain cut, the longest first.
    const capped = haproxy({ be_app: [slot('srv1'), slot('srv2')] });
    const filled = await pass(capped, normalizeEndpoints([ep(1), ep(2)]), { maxServers: 3 });
    const cut = await pass(capped, next, { memory: filled.work.plan.memory, now: 1_001_000, maxServers: 3 });
    expect(cut.findings).toEqual([{ kind: 'drain-cut', backend: 'be_app', socket: 'memory', servers: ['srv1'], count: 1 }]);
    expect(capped.ready().sort()).toEqual(['10.0.0.3:8080', '10.0.0.4:8080']);
    expect(servers(capped)).toHaveLength(3);
  });
});

describe('planWork with --dynamic-servers: bounds', () => {
  it('plans 80,000 endpoints beyond 2 slots without a stack overflow, and adds servers up to --max-endpoints only', () => {
    const endpoints = normalizeEndpoints(
      Array.from({ length: 80_000 }, (_, i) =>
        ep(0, { address: `10.${String(i >> 16)}.${String((i >> 8) & 255)}.${String(i & 255)}`, priority: i % 3 === 0 ? 10 : 0 }),
      ),
    );
    const slots: Slot[] = [1, 2].map((id) => freeSlot(id));
    const taken = { names: new Set(slots.map((s) => s.name)), ids: new Set(slots.map((s) => s.id)) };
    const backend: BackendServers = { slots, owner: { pid: 1, startTimeSec: 1, backend: 'be_app' }, taken };
    const { work, findings } = planWork('memory', { spec, endpoints }, backend, {
      now: 0,
      drainMs: 30_000,
      weights: 'srv',
      memory: undefined,
      resync: false,
      dynamic: true,
      maxServers: 4096,
      addedChecks: true,
    });
    expect(work.added).toHaveLength(4094);
    expect(work.added.every((a) => !a.backup)).toBe(true); // the preferred priority gets the room first
    expect(script(work).filter((c) => c.startsWith('add server'))).toHaveLength(4094);
    expect(findings).toContainEqual({ kind: 'servers-capped', backend: 'be_app', socket: 'memory', endpoints: 80_000 - 4096, max: 4096 });
  });

  it('adds nothing to a backend whose slots already reach --max-endpoints', async () => {
    const h = haproxy({ be_app: [slot('srv1'), slot('srv2')] });
    const r = await pass(h, normalizeEndpoints([ep(1), ep(2), ep(3)]), { maxServers: 2 });
    expect(h.added.size).toBe(0);
    expect(r.findings).toEqual([{ kind: 'servers-capped', backend: 'be_app', socket: 'memory', endpoints: 1, max: 2 }]);
  });
});

describe('planWork with --dynamic-servers against an in-memory HAProxy: properties', () => {
  const endpointArb = fc
    .record({
      host: fc.integer({ min: 1, max: 12 }),
      port: fc.constantFrom(80, 8080),
      weight: fc.integer({ min: 0, max: 100 }),
      priority: fc.constantFrom(0, 10, 20),
    })
    .map((r) => ep(r.host, { port: r.port, weight: r.weight, priority: r.priority }));
  /** A server as someone (an earlier run, an operator) left it: empty, or holding an endpoint. */
  const serverArb = fc.record({
    holds: fc.option(endpointArb, { nil: null }),
    admin: fc.constantFrom('ready', 'drain', 'maint'),
    backup: fc.boolean(),
  });
  const scenario = fc.record({
    active: fc.array(serverArb, { minLength: 1, maxLength: 5 }),
    backup: fc.array(serverArb, { maxLength: 3 }),
    added: fc.array(serverArb, { maxLength: 4 }),
    foreign: fc.array(serverArb, { maxLength: 2 }),
    // Answers as DNS gives them, duplicates included: the DNS lane normalizes them.
    answers: fc.array(fc.array(endpointArb, { maxLength: 14 }), { minLength: 1, maxLength: 4 }),
    drainMs: fc.constantFrom(0, 30_000),
    weights: fc.constantFrom<WeightPolicy>('srv', 'ignore'),
    spare: fc.integer({ min: -3, max: 8 }),
  });

  const laidOut = (name: string, s: { holds: Endpoint | null; admin: AdminState }, backup: boolean): FakeServer => {
    const server = slot(name, { backup });
    if (s.holds === null) return server;
    return { ...server, address: s.holds.address, port: s.holds.port, admin: ADMIN[s.admin], opState: s.admin === 'maint' ? 0 : 2 };
  };

  it('keeps less preferred endpoints out of active servers, serves no endpoint twice, stays under the cap, and settles', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        const h = haproxy({ be_app: [] });
        const layout = [
          ...sc.active.map((s, i) => laidOut(`srv${String(i + 1)}`, s, false)),
          ...sc.backup.map((s, i) => laidOut(`srv${String(sc.active.length + i + 1)}`, s, true)),
          ...sc.added.map((s, i) => ({ ...laidOut(`srv-a${String(i + 1)}`, s, s.backup), id: idOf(h, `srv-a${String(i + 1)}`) })),
        ];
        // Servers of the agent's name form it did not add (configured, or someone else's): never touched, never counted.
        const foreign = sc.foreign.map((s, i) => ({ ...laidOut(`srv-a${String(sc.added.length + i + 1)}`, s, s.backup), id: 500 + i }));
        const backend = h.backends.get('be_app');
        if (backend !== undefined) backend.servers = [...layout, ...foreign];
        sc.added.forEach((_, i) => h.added.add(`srv-a${String(i + 1)}`));
        const untouched = structuredClone(foreign);
        const cap = Math.max(1, layout.length + sc.spare);
        let memory: SlotMemory = emptyMemory;
        let now = 1_000_000;
        for (const answer of sc.answers) {
          const endpoints = normalizeEndpoints(answer);
          const best = bestPriority(endpoints);
          const priorityOf = new Map(endpoints.map((e) => [endpointKey(e), e.priority]));
          let quiet = false;
          for (let round = 0; round < 8 && !quiet; round++) {
            const before = servers(h).length - foreign.length;
            const r = await pass(h, endpoints, {
              now,
              drainMs: sc.drainMs,
              memory,
              maxServers: cap,
              weights: sc.weights,
              backend: prefixed,
            });
            memory = r.work.plan.memory;
            // Settled: nothing sent, and no drain left to end (its end is a command to come).
            quiet = script(r.work).length === 0 && memory.drainingSince.size === 0;
            expect(r.results.filter((x) => !x.verdict.ok)).toEqual([]);
            expect(servers(h).filter((s) => s.id !== undefined && s.id < 1000)).toEqual(untouched);
            const after = servers(h).filter((s) => s.id === undefined || s.id >= 1000);
            const ready = after.filter((s) => stateOf(s) === 'ready');
            const readyKeys = ready.map((s) => endpointKey(s));
            expect(new Set(readyKeys).size, 'an endpoint ready in two servers').toBe(readyKeys.length);
            for (const s of ready) {
              const priority = priorityOf.get(endpointKey(s));
              if (priority !== undefined && priority !== best) expect(s.backup, `${s.name} serves priority ${String(priority)}`).toBe(true);
            }
            expect(after.length).toBeLessThanOrEqual(Math.max(cap, before));
            if (r.work.added.length > 0) expect(after.length).toBeLessThanOrEqual(cap);
            now += Math.max(sc.drainMs, 1_000);
          }
          expect(quiet, 'no pass without commands after 8').toBe(true);
          const again = await pass(h, endpoints, {
            now,
            drainMs: sc.drainMs,
            memory,
            maxServers: cap,
            weights: sc.weights,
            backend: prefixed,
          });
          expect(script(again.work)).toEqual([]);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('planBackends: every backend on one socket', () => {
  const other = parseBackend('be_api=_http._tcp.api.default.svc.cluster.local');
  const gone = parseBackend('be_gone=_http._tcp.gone.default.svc.cluster.local');
  const options = {
    now: 1_000_000,
    drainMs: 30_000,
    weights: 'srv' as const,
    staticWeights: new Set<string>(),
    memory: new Map<string, SlotMemory>(),
    resync: false,
    dynamic: false,
    maxServers: 4096,
  };

  it('plans backends with endpoints, leaves those DNS spoke for as they are, and says which have no answer yet', async () => {
    const h = haproxy({
      be_app: [slot('srv1'), slot('srv2')],
      be_api: [slot('srv1')],
      be_gone: [slot('srv1')],
    });
    const snap = await portOf(h).observe([spec.backend, other.backend, gone.backend]);
    const planned = planBackends(
      h.label,
      snap,
      [
        { spec, endpoints: normalizeEndpoints([ep(1)]), known: true },
        { spec: other, endpoints: null, known: false }, // no answer yet
        { spec: gone, endpoints: null, known: true }, // NXDOMAIN before any answer
      ],
      options,
    );
    expect(planned.work.map((w) => w.spec.id)).toEqual(['be_app']);
    expect(script(planned.work[0]).some((c) => c.includes('10.0.0.1'))).toBe(true);
    expect(planned.leftAsDnsSays).toEqual(['be_gone']);
    expect(planned.findings).toEqual([{ kind: 'no-answer-yet', backend: 'be_api', socket: h.label }]);
    expect([...planned.servers.keys()]).toEqual(['be_app', 'be_api', 'be_gone']);
    expect(planned.unplaced.get('be_app')).toBe(0);
  });

  it('leaves the weights of a backend whose algorithm refuses them alone', async () => {
    const h = haproxy({ be_app: [slot('srv1')] });
    const snap = await portOf(h).observe([spec.backend]);
    const endpoints = normalizeEndpoints([ep(1, { weight: 3 })]);
    const weighted = planBackends(h.label, snap, [{ spec, endpoints, known: true }], options);
    const left = planBackends(h.label, snap, [{ spec, endpoints, known: true }], { ...options, staticWeights: new Set([spec.id]) });
    expect(script(weighted.work[0]).some((c) => c.startsWith('set server be_app/srv1 weight'))).toBe(true);
    expect(script(left.work[0]).some((c) => c.startsWith('set server be_app/srv1 weight'))).toBe(false);
  });
});
