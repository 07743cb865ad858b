import { describe, expect, it } from 'vitest';
import { addedStem, isAdded, planDynamic, renderAddition, renderDeletion } from './dynamic.ts';
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
  ...extra,
});
const free = (name: string, id: number, backup = false): Slot =>
  slot(name, 'maint', { id, address: '127.0.0.1', port: 9, opState: 0, backup });
const holding = (name: string, id: number, end: Endpoint, extra: Partial<Slot> = {}): Slot =>
  slot(name, 'ready', { id, address: end.address, port: end.port, weight: 256, ...extra });

/** planDynamic over the plan of `servers` (the added ones in maintenance left out, as planWork does). */
function dynamicOf(servers: Slot[], endpoints: Endpoint[], maxServers = 4096) {
  const plan = planBackend({
    slots: servers.filter((s) => !(isAdded(s.name, '') && s.admin === 'maint')),
    endpoints,
    now: 0,
    drainMs: 30_000,
    weights: 'srv',
    memory: emptyMemory,
    resync: false,
  });
  return planDynamic({ prefix: '', servers, plan, endpoints, maxServers, weights: 'srv' });
}

describe('servers added at run time', () => {
  it('are named after the managed prefix, in a form a server-template never makes', () => {
    expect(addedStem('')).toBe('srv-a');
    expect(addedStem('web')).toBe('web-a');
    expect(isAdded('srv-a3', '')).toBe(true);
    expect(isAdded('srv3', '')).toBe(false);
    expect(isAdded('web-a12', 'web')).toBe(true);
    expect(isAdded('web-ab', 'web')).toBe(false);
  });

  it('are added for what the slots could not hold, with the lowest free numbers, and deleted once in maintenance', () => {
    const plan = dynamicOf(
      [holding('srv1', 1, e(1)), holding('srv-a1', 2, e(2)), slot('srv-a2', 'maint', { id: 3 }), holding('srv-a4', 4, e(4))],
      [e(1), e(2), e(4), e(5), e(6)],
    );
    expect(plan.deletions).toEqual(['srv-a2']);
    expect(plan.additions.map((a) => [a.name, endpointKey(a.endpoint), a.backup])).toEqual([
      ['srv-a3', '10.0.0.5:8080', false],
      ['srv-a5', '10.0.0.6:8080', false],
    ]);
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
    const plan = dynamicOf([free('srv1', 1), free('srv-a1', 2), holding('srv-a2', 3, e(9), { admin: 'maint' })], eps, 3);
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

  it('render as add server (backup when it is one), weight, health when the slots are checked, then ready', () => {
    expect(renderAddition('be_app', { name: 'srv-a1', endpoint: e(7), weight: 256, backup: false }, true)).toEqual([
      'add server be_app/srv-a1 10.0.0.7:8080 check',
      'set server be_app/srv-a1 weight 256',
      'enable health be_app/srv-a1',
      'set server be_app/srv-a1 state ready',
    ]);
    expect(renderAddition('be_app', { name: 'srv-a3', endpoint: e(3), weight: null, backup: true }, true)[0]).toBe(
      'add server be_app/srv-a3 10.0.0.3:8080 backup check',
    );
    expect(
      renderAddition('be_app', { name: 'srv-a1', endpoint: { ...e(7), address: 'fd00::7' }, weight: null, backup: false }, false),
    ).toEqual(['add server be_app/srv-a1 [fd00::7]:8080', 'set server be_app/srv-a1 state ready']);
    expect(renderDeletion('be_app', 'srv-a1')).toBe('del server be_app/srv-a1');
    expect(() => renderAddition('be_app', { name: 'x;y', endpoint: e(1), weight: null, backup: false }, false)).toThrow(
      /refusing server name/,
    );
  });
});
