import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.ts';
import { canonicalIP, ipBytes, isIPAddress } from './ip.ts';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['1s', 1_000],
    ['1.5s', 1_500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['0', 0],
  ])('reads %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', '1d', '-1s', 's', '1 s'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});

describe('IP addresses', () => {
  it.each(['10.0.0.1', '::1', 'fd00::1', '::ffff:10.0.0.1'])('accepts %s', (a) => {
    expect(isIPAddress(a)).toBe(true);
  });
  it.each(['10.0.0.256', '10.0.0', 'web', '10.0.0.1;', 'fd00::1/64', '[::1]', ''])('refuses %j', (a) => {
    expect(isIPAddress(a)).toBe(false);
  });

  it('writes IPv6 in canonical form', () => {
    expect(canonicalIP('FD00:0000::0001')).toBe('fd00::1');
  });

  it('writes an IPv4-mapped address as HAProxy prints it back (inet_ntop), so it compares equal', () => {
    expect(canonicalIP('::ffff:a00:1')).toBe('::ffff:10.0.0.1');
    expect(canonicalIP('::FFFF:10.0.0.1')).toBe('::ffff:10.0.0.1');
    expect(canonicalIP('::a00:1')).toBe('::10.0.0.1');
    expect(canonicalIP('::1')).toBe('::1');
    expect(canonicalIP('::')).toBe('::');
    expect(canonicalIP('fd00::a00:1')).toBe('fd00::a00:1');
  });

  it('gives network-order bytes', () => {
    expect([...ipBytes('10.1.2.3')]).toEqual([10, 1, 2, 3]);
    expect([...ipBytes('fd00::1')]).toEqual([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect([...ipBytes('::ffff:10.0.0.1')].slice(10)).toEqual([0xff, 0xff, 10, 0, 0, 1]);
  });
});
