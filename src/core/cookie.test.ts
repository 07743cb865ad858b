import { describe, expect, it } from 'vitest';
import { dynamicCookie, xxh64 } from './cookie.ts';

describe('dynamicCookie', () => {
  // Values HAProxy 1.8.30 and 2.6.12 printed in `show stat` (test/fixtures), key MYKEY.
  it.each([
    ['127.0.0.1', 9, '2c9603704134d5bd'],
    ['127.0.1.1', 8081, '3a2390cc47546ba0'],
    ['127.0.1.2', 8081, '5a577a4856ab918e'],
  ])('gives %s:%i the cookie HAProxy gives it', (address, port, cookie) => {
    expect(dynamicCookie('MYKEY', address, port)).toBe(cookie);
  });

  it('depends on the port', () => {
    expect(dynamicCookie('k', '10.0.0.1', 80)).not.toBe(dynamicCookie('k', '10.0.0.1', 81));
  });

  it('hashes IPv6 addresses as 16 bytes', () => {
    expect(dynamicCookie('k', 'fd00::1', 80)).toMatch(/^[0-9a-f]{16}$/);
    expect(dynamicCookie('k', 'fd00::1', 80)).toBe(dynamicCookie('k', 'fd00:0:0:0:0:0:0:1', 80));
  });
});

describe('xxh64', () => {
  // Reference vectors of the XXH64 specification (seed 0).
  it.each([
    ['', 'ef46db3751d8e999'],
    ['a', 'd24ec4f1a98c6e5b'],
    ['abc', '44bc2cf5ad770999'],
    ['Nobody inspects the spammish repetition', 'fbcea83c8a378bf1'],
  ])('hashes %j', (text, hex) => {
    expect(xxh64(new TextEncoder().encode(text)).toString(16).padStart(16, '0')).toBe(hex);
  });
});
