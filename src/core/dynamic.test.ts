import { describe, expect, it } from 'vitest';
import { addedStem, isAdded, planDynamic, renderAddition, renderDeletion } from './dynamic.ts';
import type { Endpoint, Slot } from './types.ts';

const e = (n: number): Endpoint => ({
  target: `pod-${String(n)}`,
  address: `10.0.0.${String(n)}`,
  port: 8080,
  weight: 1,
  priority: 0,
  ttl: 5,
});
const slot = (name: string, admin: Slot['admin'] = 'ready'): Slot => ({
  name,
  id: 1,
  address: '10.0.0.1',
  port: 8080,
  admin,
  opState: 2,
  checked: false,
  weight: 1,
  backup: false,
});

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
    const plan = planDynamic({
      prefix: '',
      servers: [slot('srv1'), slot('srv-a1'), slot('srv-a2', 'maint'), slot('srv-a4', 'drain')],
      unplaced: [e(5), e(6)],
      weightOf: () => 256,
    });
    expect(plan.deletions).toEqual(['srv-a2']);
    expect(plan.additions.map((a) => a.name)).toEqual(['srv-a3', 'srv-a5']);
  });

  it('render as add server, weight, health when the slots are checked, then ready', () => {
    expect(renderAddition('be_app', { name: 'srv-a1', endpoint: e(7), weight: 256 }, true)).toEqual([
      'add server be_app/srv-a1 10.0.0.7:8080 check',
      'set server be_app/srv-a1 weight 256',
      'enable health be_app/srv-a1',
      'set server be_app/srv-a1 state ready',
    ]);
    expect(renderAddition('be_app', { name: 'srv-a1', endpoint: { ...e(7), address: 'fd00::7' }, weight: null }, false)).toEqual([
      'add server be_app/srv-a1 [fd00::7]:8080',
      'set server be_app/srv-a1 state ready',
    ]);
    expect(renderDeletion('be_app', 'srv-a1')).toBe('del server be_app/srv-a1');
    expect(() => renderAddition('be_app', { name: 'x;y', endpoint: e(1), weight: null }, false)).toThrow(/refusing server name/);
  });
});
