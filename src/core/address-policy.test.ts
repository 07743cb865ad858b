import { describe, expect, it } from 'vitest';
import { parseCidr, refusal, screenEndpoints, type AddressPolicy, type Cidr } from './address-policy.ts';

const nets = (...texts: string[]): AddressPolicy => ({ allow: texts.map((t) => parseCidr(t) as Cidr) });
const none: AddressPolicy = { allow: [] };

describe('refusal', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['240.0.0.1', 'reserved'],
    ['127.0.0.1', 'loopback'],
    ['127.9.9.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['10.1.43.243', null],
    ['fd00::10', null],
  ])('without --allow-net, %s -> %s', (address, reason) => {
    expect(refusal(address, none)).toBe(reason);
  });

  it('accepts loopback only when an --allow-net covers it', () => {
    expect(refusal('127.0.1.1', nets('127.0.0.0/8'))).toBeNull();
    expect(refusal('::1', nets('127.0.0.0/8'))).toBe('loopback');
    expect(refusal('::1', nets('::1'))).toBeNull();
  });

  it('refuses what is outside every --allow-net, an IPv4-mapped address judged as its IPv4 address', () => {
    const p = nets('10.244.0.0/16', 'fd00::/8');
    expect(refusal('10.244.3.4', p)).toBeNull();
    expect(refusal('::ffff:10.244.3.4', p)).toBeNull();
    expect(refusal('10.245.0.1', p)).toBe('not-allowed');
    expect(refusal('fd00::1', p)).toBeNull();
    expect(refusal('2001:db8::1', p)).toBe('not-allowed');
  });

  it('refuses the always-refused ranges even when an --allow-net covers them', () => {
    expect(refusal('169.254.169.254', nets('0.0.0.0/0'))).toBe('link-local');
    expect(refusal('0.0.0.0', nets('0.0.0.0/0'))).toBe('unspecified');
  });
});

describe('parseCidr', () => {
  it.each(['10.0.0.0/8', '10.1.2.3', 'fd00::/8', '::1', '0.0.0.0/0', '::ffff:10.0.0.0/104'])('reads %s', (t) => {
    expect(parseCidr(t)).not.toBeNull();
  });
  it.each(['10.0.0.0/33', 'fd00::/129', '10.0.0/8', 'pods', '10.0.0.0/8/1', '10.0.0.0/', '10.0.0.0/x'])('refuses %s', (t) => {
    expect(parseCidr(t)).toBeNull();
  });
});

describe('screenEndpoints', () => {
  it('keeps what the policy allows and says why the rest is refused', () => {
    const e = (address: string) => ({ target: 't', address, port: 80, weight: 1, priority: 0, ttl: 5 });
    const { kept, refused } = screenEndpoints([e('10.0.0.1'), e('169.254.169.254'), e('127.0.0.1')], none);
    expect(kept.map((x) => x.address)).toEqual(['10.0.0.1']);
    expect(refused.map((r) => `${r.endpoint.address} ${r.reason}`)).toEqual(['169.254.169.254 link-local', '127.0.0.1 loopback']);
  });
});
