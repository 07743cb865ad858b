import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ADDED_ID_MIN, addedServerId, addedStem, hasAddedName, isOwnAdded, planDynamic, type AddedOwner } from './dynamic.ts';
import { emptyMemory, planBackend } from './plan.ts';
import { endpointKey, type Endpoint, type Slot } from './types.ts';

const e = (n: number, extra: Partial<Endpoint> = {}): Endpoint => ({
  target: `pod-${String(n)}`,
  address: `10.0.0.${String(n)}`,
  port: 8080,
  weight: 1,
  priority: 0,
  ttl: 5,
  ...extra,
});
const slot = (name: string, admin: Slot['admin'] = 'ready', extra: Partial<Slot> = {}): Slot => ({
  name,
  id: 1,
  address: '10.0.0.1',
  port: 8080,
  admin,
  opState: 2,
  checked: false,
  weight: 1,
  backup: false,
  added: false,
  ...extra,
});
const free = (name: string, id: number, backup = false): Slot =>
  slot(name, 'maint', { id, address: '127.0.0.1', port: 9, opState: 0, backup });
const holding = (name: string, id: number, end: Endpoint, extra: Partial<Slot> = {}): Slot =>
  slot(name, 'ready', { id, address: end.address, port: end.port, weight: 256, ...extra });

const owner: AddedOwner = { pid: 4242, startTimeSec: 1_700_000_000, backend: 'be_app' };
/** A server the agent added: its name, and the id it derives for it. */
const own = (name: string, admin: Slot['admin'] = 'ready', extra: Partial<Slot> = {}): Slot =>
  slot(name, admin, { id: addedServerId(owner, name), added: true, ...extra });

/** planDynamic over the plan of `servers` (the added ones in maintenance left out, as planWork does); `others`: servers not managed. */
function dynamicOf(servers: Slot[], endpoints: Endpoint[], maxServers = 4096, others: Pick<Slot, 'name' | 'id'>[] = []) {
  const fillable = servers.filter((s) => !(s.added && s.admin === 'maint'));
  const plan = planBackend({
    slots: fillable,
    endpoints,
    now: 0,
    drainMs: 30_000,
    weights: 'srv',
    memory: emptyMemory,
    resync: false,
    addable: Math.max(0, maxServers - fillable.length),
  });
  const all = [...servers, ...others];
  const taken = { names: new Set(all.map((s) => s.name)), ids: new Set(all.map((s) => s.id)) };
  return planDynamic({ prefix: '', owner, taken, servers, plan, endpoints, maxServers, weights: 'srv' });
}

describe('servers added at run time', () => {
  it('are named after the managed prefix', () => {
    expect(addedStem('')).toBe('srv-a');
    expect(addedStem('web')).toBe('web-a');
    expect(hasAddedName('srv-a3', '')).toBe(true);
    expect(hasAddedName('srv3', '')).toBe(false);
    expect(hasAddedName('web-a12', 'web')).toBe(true);
    expect(hasAddedName('web-ab', 'web')).toBe(false);
    expect(hasAddedName('web-a0', 'web')).toBe(false);
  });

  it('carry an id derived from the HAProxy process, the backend and the name, above the ids a configuration numbers', () => {
    const id = addedServerId(owner, 'srv-a1');
    expect(addedServerId({ ...owner }, 'srv-a1')).toBe(id); // the same after an agent restart
    expect(id).toBeGreaterThanOrEqual(ADDED_ID_MIN);
    expect(id).toBeLessThan(2 ** 31);
    const others = [
      addedServerId({ ...owner, pid: 4243 }, 'srv-a1'),
      addedServerId({ ...owner, startTimeSec: 1_700_000_001 }, 'srv-a1'),
      addedServerId({ ...owner, backend: 'be_api' }, 'srv-a1'),
      addedServerId(owner, 'srv-a2'),
    ];
    expect(new Set([id, ...others]).size).toBe(5);
    fc.assert(
      fc.property(fc.nat(), fc.option(fc.nat(), { nil: null }), fc.string(), (pid, startTimeSec, name) => {
        const n = addedServerId({ pid, startTimeSec, backend: 'b' }, name);
        return Number.isInteger(n) && n >= ADDED_ID_MIN && n < 2 ** 31;
      }),
    );
  });

  it('are the agent own only with both its name form and its id: a configured srv-a1 or another process is not', () => {
    const mine = { name: 'srv-a1', id: addedServerId(owner, 'srv-a1') };
    expect(isOwnAdded(mine, owner, '')).toBe(true);
    expect(isOwnAdded({ name: 'srv-a1', id: 1 }, owner, '')).toBe(false); // server-template srv-a 4
    expect(isOwnAdded(mine, { ...owner, pid: 1 }, '')).toBe(false); // a reloaded HAProxy's configured srv-a1
    expect(isOwnAdded({ name: 'srv1', id: addedServerId(owner, 'srv1') }, owner, '')).toBe(false);
    expect(isOwnAdded({ name: 'web-a1', id: addedServerId(owner, 'web-a1') }, owner, 'web')).toBe(true);
    expect(isOwnAdded({ name: 'web-a1', id: addedServerId(owner, 'web-a1') }, owner, '')).toBe(false);
  });

  it('are added for what the slots could not hold, with the lowest free numbers, and deleted once in maintenance', () => {
    const plan = dynamicOf(
      [
        holding('srv1', 1, e(1)),
        own('srv-a1', 'ready', { address: e(2).address }),
        own('srv-a2', 'maint'),
        own('srv-a4', 'ready', { address: e(4).address }),
      ],
      [e(1), e(2), e(4), e(5), e(6)],
    );
    expect(plan.deletions).toEqual(['srv-a2']);
    expect(plan.additions.map((a) => [a.name, a.id, endpointKey(a.endpoint), a.backup])).toEqual([
      ['srv-a3', addedServerId(owner, 'srv-a3'), '10.0.0.5:8080', false],
      ['srv-a5', addedServerId(owner, 'srv-a5'), '10.0.0.6:8080', false],
    ]);
  });

  it('delete no server the agent did not add, whatever its name, and add under names and ids no server of the backend has', () => {
    // A configured srv-a1 (server-template srv-a, or a static server) in maintenance, and someone else's srv-a2, ready.
    const configured = slot('srv-a1', 'maint', { id: 1, address: '127.0.0.1', port: 9 });
    const theirs = slot('srv-a2', 'ready', { id: 7, address: '10.0.0.99' });
    const plan = dynamicOf([configured, holding('srv2', 2, e(1))], [e(1), e(2), e(3)], 4096, [theirs]);
    expect(plan.deletions).toEqual([]);
    // srv-a1 (configured) takes e(2) as a slot; e(3) gets the first name and id no server has.
    expect(plan.additions.map((a) => a.name)).toEqual(['srv-a3']);
    const clash = addedServerId(owner, 'srv-a1');
    const skipped = dynamicOf([holding('srv1', 1, e(1))], [e(1), e(2)], 4096, [{ name: 'x', id: clash }]);
    expect(skipped.additions.map((a) => a.name)).toEqual(['srv-a2']); // srv-a1's id is some other server's
  });

  it('add endpoints of a less preferred priority as backup servers, beyond the backup slots or without any', () => {
    const eps = [e(1), e(2), e(3, { priority: 10 }), e(4, { priority: 10 }), e(5, { priority: 10 })];
    const withBackupSlot = dynamicOf([free('srv1', 1), free('srv2', 2), free('srv3', 3, true)], eps);
    expect(withBackupSlot.additions.map((a) => [a.name, endpointKey(a.endpoint), a.backup])).toEqual([
      ['srv-a1', '10.0.0.4:8080', true],
      ['srv-a2', '10.0.0.5:8080', true],
    ]);
    const withoutBackupSlots = dynamicOf([free('srv1', 1), free('srv2', 2)], eps);
    expect(withoutBackupSlots.additions.map((a) => [endpointKey(a.endpoint), a.backup])).toEqual([
      ['10.0.0.3:8080', true],
      ['10.0.0.4:8080', true],
      ['10.0.0.5:8080', true],
    ]);
  });

  it('never add an endpoint a server of the backend still serves, whatever its pool', () => {
    // 10.0.0.3 went from priority 0 to 10: its active slot drains it, no backup server is added for it meanwhile.
    const moved = e(3, { priority: 10 });
    const plan = dynamicOf([holding('srv1', 1, e(1)), holding('srv2', 2, moved)], [e(1), moved]);
    expect(plan.additions).toEqual([]);
    const drained = dynamicOf([holding('srv1', 1, e(1)), holding('srv2', 2, moved, { admin: 'maint' })], [e(1), moved]);
    expect(drained.additions.map((a) => [endpointKey(a.endpoint), a.backup])).toEqual([['10.0.0.3:8080', true]]);
  });

  it('stop at --max-endpoints servers in all, slots included, the preferred priority first', () => {
    const eps = [e(1), e(2), e(3), e(4, { priority: 10 }), e(5, { priority: 10 })];
    const plan = dynamicOf([free('srv1', 1), own('srv-a1', 'maint'), own('srv-a2', 'maint', { address: e(9).address })], eps, 3);
    // srv-a1 (free, maint) is deleted, srv-a2 too: room for 2 besides the slot.
    expect(plan.deletions).toEqual(['srv-a1', 'srv-a2']);
    expect(plan.additions.map((a) => endpointKey(a.endpoint))).toEqual(['10.0.0.2:8080', '10.0.0.3:8080']);
    expect(plan.capped).toBe(2);
    expect(dynamicOf([free('srv1', 1), free('srv2', 2)], eps, 1).additions).toEqual([]);
  });

  it('weigh an added server against the endpoints of its own pool', () => {
    const eps = [e(1, { weight: 10 }), e(2, { weight: 40 }), e(3, { priority: 10, weight: 5 }), e(4, { priority: 10, weight: 20 })];
    const plan = dynamicOf([free('srv1', 1)], eps);
    expect(plan.additions.map((a) => [endpointKey(a.endpoint), a.weight, a.backup])).toEqual([
      ['10.0.0.1:8080', 64, false],
      ['10.0.0.4:8080', 256, true],
      ['10.0.0.3:8080', 64, true],
    ]);
  });
});
