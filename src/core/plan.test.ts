import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderStep } from './commands.ts';
import { emptyMemory, planBackend, type PlanInput, type SlotMemory } from './plan.ts';
import { changeSteps } from './steps.ts';
import { endpointKey, type Change, type Endpoint, type Slot } from './types.ts';
import { freeSlot } from '../../test/support/slots.ts';

/** A change -> the commands its steps render to. */
const renderChange = (backend: string, c: Change): string[] => changeSteps(backend, c).map(renderStep);

const ep = (address: string, port = 8080, extra: Partial<Endpoint> = {}): Endpoint => ({
  target: `${address.replaceAll('.', '-')}.web`,
  address,
  port,
  weight: 33,
  priority: 0,
  ttl: 5,
  ...extra,
});

const free = freeSlot;

const serving = (id: number, e: Endpoint, extra: Partial<Slot> = {}): Slot =>
  free(id, { address: e.address, port: e.port, admin: 'ready', opState: 2, weight: 256, ...extra });

const base = (slots: Slot[], endpoints: Endpoint[], extra: Partial<PlanInput> = {}): PlanInput => ({
  slots,
  endpoints,
  now: 1_000_000,
  drainMs: 30_000,
  weights: 'srv',
  memory: emptyMemory,
  resync: false,
  ...extra,
});

const script = (input: PlanInput): string =>
  planBackend(input)
    .changes.flatMap((c) => renderChange('be_app', c))
    .join('\n');

/** What HAProxy looks like once a plan is applied. */
function apply(slots: readonly Slot[], input: PlanInput): Slot[] {
  const plan = planBackend(input);
  return slots.map((s) => {
    const c = plan.changes.find((x) => x.server === s.name);
    if (c === undefined) return s;
    return {
      ...s,
      address: c.to.address,
      port: c.to.port,
      admin: c.to.admin,
      weight: c.to.weight ?? s.weight,
      opState: c.to.admin === 'maint' ? 0 : 2,
    };
  });
}

describe('planBackend', () => {
  it('fills free slots in srv_id order: address, weight, then state', () => {
    expect(script(base([free(2), free(1), free(3)], [ep('10.1.0.2'), ep('10.1.0.1')]))).toBe(
      [
        'set server be_app/srv1 addr 10.1.0.1 port 8080',
        'set server be_app/srv1 weight 256',
        'set server be_app/srv1 state ready',
        'set server be_app/srv2 addr 10.1.0.2 port 8080',
        'set server be_app/srv2 weight 256',
        'set server be_app/srv2 state ready',
      ].join('\n'),
    );
  });

  it('sends nothing when HAProxy already matches DNS', () => {
    const a = ep('10.1.0.1');
    const b = ep('10.1.0.2');
    expect(planBackend(base([serving(1, a), serving(2, b), free(3)], [a, b])).changes).toEqual([]);
  });

  it('keeps live servers in their slots on a scale-up, and writes no weight when the SRV weights stay equal', () => {
    const a = ep('10.1.0.1', 8080, { weight: 50 });
    const b = ep('10.1.0.2', 8080, { weight: 50 });
    const more = [a, b, ep('10.1.0.3', 8080, { weight: 33 })].map((e) => ({ ...e, weight: 33 }));
    expect(script(base([serving(1, a), free(2), serving(3, b), free(4)], more))).toBe(
      ['set server be_app/srv2 addr 10.1.0.3 port 8080', 'set server be_app/srv2 weight 256', 'set server be_app/srv2 state ready'].join(
        '\n',
      ),
    );
  });

  it('drains a server whose endpoint left DNS, and puts it in maint once --drain has passed', () => {
    const a = ep('10.1.0.1');
    const gone = ep('10.1.0.9');
    const first = planBackend(base([serving(1, a), serving(2, gone)], [a]));
    expect(first.changes.flatMap((c) => renderChange('be_app', c))).toEqual(['set server be_app/srv2 state drain']);
    expect(first.changes[0]?.reason).toBe('endpoint left DNS');
    const draining = [serving(1, a), serving(2, gone, { admin: 'drain' })];
    expect(planBackend(base(draining, [a], { now: 1_000_000 + 29_999, memory: first.memory })).changes).toEqual([]);
    const later = planBackend(base(draining, [a], { now: 1_000_000 + 30_000, memory: first.memory }));
    expect(later.changes.flatMap((c) => renderChange('be_app', c))).toEqual(['set server be_app/srv2 state maint']);
    expect(later.changes[0]?.reason).toBe('drain period over');
  });

  it('sends a removed endpoint straight to maint with --drain 0', () => {
    const a = ep('10.1.0.1');
    expect(script(base([serving(1, a), serving(2, ep('10.1.0.9'))], [a], { drainMs: 0 }))).toBe('set server be_app/srv2 state maint');
  });

  it('ends a drain at once when the health check finds the server down', () => {
    const gone = ep('10.1.0.9');
    const memory: SlotMemory = { drainingSince: new Map([['srv1', 1_000_000]]), lastHeld: new Map() };
    const plan = planBackend(base([serving(1, gone, { admin: 'drain', opState: 0 })], [], { now: 1_000_500, memory }));
    expect(plan.changes[0]?.reason).toBe('health check down while draining');
    expect(plan.changes[0]?.to.admin).toBe('maint');
  });

  it('brings a draining endpoint that came back to ready in the same slot', () => {
    const a = ep('10.1.0.1');
    const plan = planBackend(base([serving(1, a, { admin: 'drain' }), free(2)], [a]));
    expect(plan.changes.flatMap((c) => renderChange('be_app', c))).toEqual(['set server be_app/srv1 state ready']);
    expect(plan.changes[0]?.reason).toBe('endpoint back in DNS');
  });

  it('takes the longest-draining slot when no slot is free, and says so', () => {
    const a = ep('10.1.0.1');
    const memory: SlotMemory = {
      drainingSince: new Map([
        ['srv2', 990_000],
        ['srv3', 980_000],
      ]),
      lastHeld: new Map(),
    };
    const slots = [serving(1, a), serving(2, ep('10.1.0.8'), { admin: 'drain' }), serving(3, ep('10.1.0.9'), { admin: 'drain' })];
    const plan = planBackend(base(slots, [a, ep('10.1.0.5')], { memory }));
    expect(plan.drainsCut).toEqual(['srv3']);
    expect(plan.changes.map((c) => [c.server, c.reason])).toEqual([['srv3', 'slot taken for a new endpoint']]);
  });

  it('leaves an endpoint to be added instead of cutting a drain while servers may be added, and cuts only past that room', () => {
    const memory: SlotMemory = {
      drainingSince: new Map([
        ['srv1', 990_000],
        ['srv2', 980_000],
      ]),
      lastHeld: new Map(),
    };
    const slots = [serving(1, ep('10.1.0.8'), { admin: 'drain' }), serving(2, ep('10.1.0.9'), { admin: 'drain' })];
    const wanted = [ep('10.1.0.1'), ep('10.1.0.2'), ep('10.1.0.3')];
    const roomy = planBackend(base(slots, wanted, { memory, addable: 3 }));
    expect(roomy.drainsCut).toEqual([]);
    expect(roomy.changes).toEqual([]);
    expect(roomy.unplaced.map(endpointKey)).toEqual(['10.1.0.1:8080', '10.1.0.2:8080', '10.1.0.3:8080']);
    expect([...roomy.memory.drainingSince.keys()].sort()).toEqual(['srv1', 'srv2']);
    // Room for one server: the two others each take a drain, the longest first.
    const tight = planBackend(base(slots, wanted, { memory, addable: 1 }));
    expect([...tight.drainsCut].sort()).toEqual(['srv1', 'srv2']);
    expect(tight.unplaced.map(endpointKey)).toEqual(['10.1.0.3:8080']);
    expect(planBackend(base(slots, wanted, { memory, addable: 2 })).drainsCut).toEqual(['srv2']);
    expect([...planBackend(base(slots, wanted, { memory })).drainsCut].sort()).toEqual(['srv1', 'srv2']);
  });

  it('gives the room to add servers to the preferred priority first, the backup pool what is left', () => {
    const slots = [serving(1, ep('10.1.0.8'), { admin: 'drain' }), serving(2, ep('10.1.0.9'), { admin: 'drain', backup: true })];
    const wanted = [ep('10.1.0.1'), ep('10.1.0.2', 8080, { priority: 10 })];
    expect(planBackend(base(slots, wanted, { addable: 1 })).drainsCut).toEqual(['srv2']);
    expect(planBackend(base(slots, wanted, { addable: 2 })).drainsCut).toEqual([]);
  });

  it('prefers a free slot that last held the same address', () => {
    const back = ep('10.1.0.7');
    const slots = [free(1), free(2), free(3, { address: '10.1.0.7', port: 8080 })];
    expect(planBackend(base(slots, [back])).changes.map((c) => c.server)).toEqual(['srv3']);
    const memory: SlotMemory = { drainingSince: new Map(), lastHeld: new Map([['srv2', endpointKey(back)]]) };
    expect(planBackend(base([free(1), free(2), free(3)], [back], { memory })).changes.map((c) => c.server)).toEqual(['srv2']);
  });

  it('places endpoints deterministically when slots run out, and reports the rest', () => {
    const eps = [ep('10.1.0.4'), ep('10.1.0.10'), ep('10.1.0.2'), ep('10.1.0.3', 8080, { weight: 90 })];
    const plan = planBackend(base([free(1), free(2)], eps));
    expect(plan.changes.map((c) => endpointKey(c.to))).toEqual(['10.1.0.3:8080', '10.1.0.2:8080']);
    expect(plan.unplaced.map(endpointKey)).toEqual(['10.1.0.4:8080', '10.1.0.10:8080']);
    // Applied, the next pass changes nothing and reports the same endpoints: no flapping.
    const after = apply([free(1), free(2)], base([free(1), free(2)], eps));
    const next = planBackend(base(after, [...eps].reverse(), { memory: plan.memory }));
    expect(next.changes).toEqual([]);
    expect(next.unplaced.map(endpointKey)).toEqual(['10.1.0.4:8080', '10.1.0.10:8080']);
  });

  it('maps SRV weights proportionally, the heaviest at 256', () => {
    const plan = planBackend(base([free(1), free(2)], [ep('10.1.0.1', 80, { weight: 10 }), ep('10.1.0.2', 80, { weight: 40 })]));
    expect(plan.changes.map((c) => c.to.weight)).toEqual([256, 64]);
  });

  it('leaves weights alone with --weights ignore', () => {
    expect(script(base([free(1)], [ep('10.1.0.1')], { weights: 'ignore' }))).toBe(
      'set server be_app/srv1 addr 10.1.0.1 port 8080\nset server be_app/srv1 state ready',
    );
  });

  it('puts a second slot holding the same endpoint in maint', () => {
    const a = ep('10.1.0.1');
    const plan = planBackend(base([serving(1, a), serving(2, a)], [a]));
    expect(plan.changes.map((c) => [c.server, c.to.admin, c.reason])).toEqual([['srv2', 'maint', 'duplicate of another slot']]);
  });

  it('after a reload, re-sends every field of kept slots and never drains a placeholder left ready', () => {
    const a = ep('10.1.0.1');
    // server-state-file brought srv2 back "ready" on its placeholder address with the old port.
    const slots = [serving(1, a), free(2, { admin: 'ready', port: 8080 })];
    expect(script(base(slots, [a], { resync: true }))).toBe(
      [
        'set server be_app/srv1 addr 10.1.0.1 port 8080',
        'set server be_app/srv1 weight 256',
        'set server be_app/srv1 state ready',
        'set server be_app/srv2 state maint',
      ].join('\n'),
    );
  });

  it('after a reload, lets a drain the state file brought back on its own pod run on, and drains a pod that left meanwhile', () => {
    const a = ep('10.1.0.1');
    const gone = ep('10.1.0.2');
    const left = ep('10.1.0.3');
    // Slots declared with a name: the server-state-file gave each its address back, as the agent left it.
    const slots = [serving(1, a), serving(2, gone, { admin: 'drain' }), serving(3, left)];
    const memory: SlotMemory = {
      drainingSince: new Map([['srv2', 1_000_000 - 10_000]]),
      lastHeld: new Map([
        ['srv1', endpointKey(a)],
        ['srv2', endpointKey(gone)],
        ['srv3', endpointKey(left)],
      ]),
    };
    const plan = planBackend(base(slots, [a], { resync: true, memory }));
    // srv2 keeps draining (20 s of its 30 s left): its sticky clients keep their pod; srv3's pod left DNS during the reload.
    expect(plan.changes.map((c) => [c.server, c.to.admin, c.reason])).toEqual([
      ['srv1', 'ready', 'resync after HAProxy reload'],
      ['srv3', 'drain', 'endpoint left DNS'],
    ]);
    expect(plan.memory.drainingSince.get('srv2')).toBe(1_000_000 - 10_000);
  });

  it('fills backup slots with the less preferred SRV priorities, or reports them unused', () => {
    const primary = ep('10.1.0.1', 80, { priority: 10 });
    const fallback = ep('10.2.0.1', 80, { priority: 20 });
    const withBackup = planBackend(base([free(1), free(2, { backup: true })], [fallback, primary]));
    expect(withBackup.changes.map((c) => [c.server, endpointKey(c.to)])).toEqual([
      ['srv1', '10.1.0.1:80'],
      ['srv2', '10.2.0.1:80'],
    ]);
    const without = planBackend(base([free(1), free(2)], [fallback, primary]));
    expect(without.changes.map((c) => endpointKey(c.to))).toEqual(['10.1.0.1:80']);
    expect(without.unused.map(endpointKey)).toEqual(['10.2.0.1:80']);
  });
});

describe('planBackend properties', () => {
  const endpointArb = fc
    .record({
      host: fc.integer({ min: 1, max: 40 }),
      port: fc.constantFrom(80, 8080),
      weight: fc.integer({ min: 0, max: 100 }),
      priority: fc.constantFrom(0, 0, 0, 10),
    })
    .map((r) => ep(`10.0.0.${String(r.host)}`, r.port, { weight: r.weight, priority: r.priority }));
  const scenario = fc.record({
    slots: fc.integer({ min: 1, max: 12 }),
    backups: fc.integer({ min: 0, max: 3 }),
    steps: fc.array(fc.uniqueArray(endpointArb, { selector: endpointKey, maxLength: 16 }), { minLength: 1, maxLength: 6 }),
    drainMs: fc.constantFrom(0, 30_000),
  });

  it('never puts an endpoint in two slots, never moves a kept one, and is idempotent', () => {
    fc.assert(
      fc.property(scenario, ({ slots: n, backups, steps, drainMs }) => {
        let slots = Array.from({ length: n + backups }, (_, i) => free(i + 1, { backup: i >= n }));
        let memory = emptyMemory;
        let now = 1_000_000;
        for (const endpoints of steps) {
          const input = base(slots, endpoints, { memory, now, drainMs });
          const plan = planBackend(input);
          const after = apply(slots, input);
          const live = after.filter((s) => s.admin !== 'maint').map(endpointKey);
          expect(new Set(live).size).toBe(live.length);
          const best = Math.min(...endpoints.map((e) => e.priority));
          for (const before of slots) {
            const stillWanted = endpoints.some(
              (e) => endpointKey(e) === endpointKey(before) && (before.backup ? e.priority !== best : e.priority === best),
            );
            if (before.admin === 'ready' && stillWanted) {
              const same = after.find((s) => s.name === before.name);
              expect(same && endpointKey(same)).toBe(endpointKey(before));
            }
          }
          const again = planBackend(base(after, endpoints, { memory: plan.memory, now, drainMs }));
          expect(again.changes).toEqual([]);
          slots = after;
          memory = plan.memory;
          now += 1_000;
        }
      }),
      { numRuns: 300 },
    );
  });
});
