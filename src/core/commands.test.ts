import { describe, expect, it } from 'vitest';
import { batchLines, MAX_LINE_BYTES, renderChange, UnsafeCommandError } from './commands.ts';
import type { Change } from './types.ts';

const change = (over: Partial<Change> = {}): Change => ({
  server: 'srv1',
  reason: 'new endpoint',
  from: { address: '127.0.0.1', port: 9, weight: 1, admin: 'maint' },
  to: { address: '10.1.43.243', port: 8080, weight: 256, admin: 'ready' },
  force: false,
  endpoint: null,
  ...over,
});

describe('renderChange', () => {
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

describe('batchLines', () => {
  it('keeps every line under the limit HAProxy before 3.0 drops silently', () => {
    const cmds = Array.from(
      { length: 1000 },
      (_, i) => `set server be_app/srv${String(i)} addr 10.1.${String(i >> 8)}.${String(i & 255)} port 8080`,
    );
    const lines = batchLines(cmds);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(Buffer.byteLength(l.join(';')) + 1).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(lines.flat()).toEqual(cmds);
  });

  it('puts a small batch on one line', () => {
    expect(batchLines(['a', 'b'])).toEqual([['a', 'b']]);
  });
});
