import { describe, expect, it } from 'vitest';
import { batchLines, MAX_LINE_BYTES, renderStep, UnsafeCommandError } from './commands.ts';
import { ADDED_ID_MIN, type Addition } from './dynamic.ts';
import { additionSteps, changeSteps } from './steps.ts';
import type { Change, Endpoint } from './types.ts';

/** One change -> the commands its steps render to. */
const renderChange = (backend: string, c: Change): string[] => changeSteps(backend, c).map(renderStep);
/** One added server -> the commands its steps render to. */
const renderAddition = (backend: string, a: Addition, checked: boolean): string[] => additionSteps(backend, a, checked).map(renderStep);

const e = (n: number): Endpoint => ({
  target: `pod-${String(n)}`,
  address: `10.0.0.${String(n)}`,
  port: 8080,
  weight: 1,
  priority: 0,
  ttl: 5,
});

const change = (over: Partial<Change> = {}): Change => ({
  server: 'srv1',
  reason: 'new endpoint',
  from: { address: '127.0.0.1', port: 9, weight: 1, admin: 'maint' },
  to: { address: '10.1.43.243', port: 8080, weight: 256, admin: 'ready' },
  force: false,
  endpoint: null,
  ...over,
});

describe('a slot change, rendered', () => {
  it('renders address, weight and state in that order', () => {
    expect(renderChange('be_app', change())).toEqual([
      'set server be_app/srv1 addr 10.1.43.243 port 8080',
      'set server be_app/srv1 weight 256',
      'set server be_app/srv1 state ready',
    ]);
  });

  it('renders IPv6 addresses as HAProxy takes them', () => {
    expect(renderChange('be_app', change({ to: { address: 'fd00::1', port: 80, weight: null, admin: 'ready' } }))[0]).toBe(
      'set server be_app/srv1 addr fd00::1 port 80',
    );
  });

  it('sends only what differs unless forced', () => {
    const same = { address: '10.0.0.1', port: 80, weight: 256, admin: 'ready' as const };
    expect(renderChange('be', change({ from: same, to: { ...same, admin: 'drain' } }))).toEqual(['set server be/srv1 state drain']);
    expect(renderChange('be', change({ from: same, to: same, force: true }))).toHaveLength(3);
  });

  it.each([
    ['a backend name with a semicolon', 'be;shutdown sessions', 'srv1'],
    ['a server name with a newline', 'be', 'srv1\nset server be/x state ready'],
    ['a server name with a space', 'be', 'srv 1'],
    ['an empty name', '', 'srv1'],
  ])('refuses %s', (_what, backend, server) => {
    expect(() => renderChange(backend, change({ server }))).toThrow(UnsafeCommandError);
  });

  it.each([
    ['a host name', { address: 'web.default.svc', port: 80 }],
    ['an address with a semicolon', { address: '10.0.0.1;help', port: 80 }],
    ['port 0', { address: '10.0.0.1', port: 0 }],
    ['port 65536', { address: '10.0.0.1', port: 65536 }],
  ])('refuses %s as a target', (_what, to) => {
    expect(() => renderChange('be', change({ to: { ...to, weight: null, admin: 'ready' } }))).toThrow(UnsafeCommandError);
  });

  it('refuses a weight outside 0..256', () => {
    expect(() => renderChange('be', change({ to: { address: '10.0.0.1', port: 80, weight: 257, admin: 'ready' } }))).toThrow(/0\.\.256/);
  });
});

describe('an added server, rendered', () => {
  it('as add server with its id (backup when it is one), weight, health when the slots are checked, then ready', () => {
    expect(renderAddition('be_app', { name: 'srv-a1', id: 1234567890, endpoint: e(7), weight: 256, backup: false }, true)).toEqual([
      'add server be_app/srv-a1 10.0.0.7:8080 id 1234567890 check',
      'set server be_app/srv-a1 weight 256',
      'enable health be_app/srv-a1',
      'set server be_app/srv-a1 state ready',
    ]);
    expect(renderAddition('be_app', { name: 'srv-a3', id: ADDED_ID_MIN, endpoint: e(3), weight: null, backup: true }, true)[0]).toBe(
      'add server be_app/srv-a3 10.0.0.3:8080 id 1073741824 backup check',
    );
    expect(
      renderAddition(
        'be_app',
        { name: 'srv-a1', id: ADDED_ID_MIN, endpoint: { ...e(7), address: 'fd00::7' }, weight: null, backup: false },
        false,
      ),
    ).toEqual(['add server be_app/srv-a1 [fd00::7]:8080 id 1073741824', 'set server be_app/srv-a1 state ready']);
    expect(renderStep({ kind: 'del-server', backend: 'be_app', server: 'srv-a1' })).toBe('del server be_app/srv-a1');
    expect(() => renderAddition('be_app', { name: 'x;y', id: ADDED_ID_MIN, endpoint: e(1), weight: null, backup: false }, false)).toThrow(
      /refusing server name/,
    );
    expect(() => renderAddition('be_app', { name: 'srv-a1', id: 2 ** 31, endpoint: e(1), weight: null, backup: false }, false)).toThrow(
      /refusing server id/,
    );
  });
});

describe('batchLines', () => {
  it('keeps every line under the limit HAProxy before 3.0 drops silently', () => {
    const cmds = Array.from({ length: 1000 }, (_, i) => ({
      text: `set server be_app/srv${String(i)} addr 10.1.${String(i >> 8)}.${String(i & 255)} port 8080`,
    }));
    const lines = batchLines(cmds);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(Buffer.byteLength(l.map((c) => c.text).join(';')) + 1).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(lines.flat()).toEqual(cmds);
  });

  it('puts a small batch on one line', () => {
    expect(batchLines([{ text: 'a' }, { text: 'b' }])).toEqual([[{ text: 'a' }, { text: 'b' }]]);
  });
});
