import { ipBytes, isIPv4, isMappedV4 } from './ip.ts';
import type { Endpoint } from './types.ts';

/**
 * Which addresses may become servers. DNS is untrusted: an answer must not point HAProxy
 * at the cloud metadata service, at itself, or at addresses no pod can have. Like
 * HAProxy's `resolve-net`, `--allow-net` narrows what is accepted; some ranges are refused
 * whatever the flags. IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged as its IPv4 address.
 */
export type Cidr = Readonly<{ bytes: Uint8Array; bits: number; text: string }>;

export type RefusalReason = 'unspecified' | 'broadcast' | 'multicast' | 'link-local' | 'reserved' | 'loopback' | 'not-allowed';

export type AddressPolicy = Readonly<{
  /** --allow-net: when not empty, only addresses inside one of these are accepted. */
  allow: readonly Cidr[];
}>;

/** "10.0.0.0/8", "fd00::/8", "10.1.2.3" (one address). null when it is not a CIDR. */
export function parseCidr(text: string): Cidr | null {
  const [addr = '', bitsText, ...rest] = text.split('/');
  if (rest.length > 0) return null;
  let bytes: Uint8Array;
  try {
    bytes = ipBytes(addr);
  } catch {
    return null;
  }
  const max = bytes.length * 8;
  const bits = bitsText === undefined ? max : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (!Number.isInteger(bits) || bits < 0 || bits > max) return null;
  return { bytes, bits, text };
}

const v4 = (text: string): Cidr => parseCidr(text) as Cidr;

/** Refused whatever the flags (RFC 6890): no pod has these addresses. */
const ALWAYS_REFUSED: readonly (readonly [Cidr, RefusalReason])[] = [
  [v4('0.0.0.0/8'), 'unspecified'],
  [v4('::/128'), 'unspecified'],
  [v4('255.255.255.255/32'), 'broadcast'],
  [v4('224.0.0.0/4'), 'multicast'],
  [v4('ff00::/8'), 'multicast'],
  [v4('169.254.0.0/16'), 'link-local'],
  [v4('fe80::/10'), 'link-local'],
  [v4('240.0.0.0/4'), 'reserved'],
];

/** Refused unless an --allow-net covers it: in Kubernetes, loopback is the HAProxy pod itself. */
const LOOPBACK: readonly Cidr[] = [v4('127.0.0.0/8'), v4('::1/128')];

/** The address as the policy sees it: IPv4-mapped IPv6 as its IPv4 bytes. */
function policyBytes(address: string): Uint8Array {
  const b = ipBytes(address);
  if (isMappedV4(b)) return b.subarray(12);
  return b;
}

function inNet(net: Cidr, b: Uint8Array): boolean {
  if (b.length !== net.bytes.length) return false;
  let bits = net.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((b[i] ?? 0) & mask) !== ((net.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** Why `address` may not become a server, or null when it may. */
export function refusal(address: string, policy: AddressPolicy): RefusalReason | null {
  const b = policyBytes(address);
  for (const [net, reason] of ALWAYS_REFUSED) if (inNet(net, b)) return reason;
  const allowed = policy.allow.some((n) => inNet(n, b));
  if (LOOPBACK.some((n) => inNet(n, b)) && !allowed) return 'loopback';
  if (policy.allow.length > 0 && !allowed) return 'not-allowed';
  return null;
}

/** What an operator can do about a refusal, for its log line. */
export function refusalHint(reason: RefusalReason, address: string): string {
  switch (reason) {
    case 'loopback':
      return `loopback is refused unless allowed: --allow-net ${isIPv4(address) ? '127.0.0.0/8' : '::1/128'}`;
    case 'not-allowed':
      return 'outside every --allow-net: add the pod network with --allow-net <cidr>';
    case 'unspecified':
    case 'broadcast':
    case 'multicast':
    case 'link-local':
    case 'reserved':
      return 'never a pod address: refused whatever the flags';
  }
}

/** Splits endpoints into those that may become servers and those refused, with why. */
export function screenEndpoints(
  endpoints: readonly Endpoint[],
  policy: AddressPolicy,
): { kept: Endpoint[]; refused: { endpoint: Endpoint; reason: RefusalReason }[] } {
  const kept: Endpoint[] = [];
  const refused: { endpoint: Endpoint; reason: RefusalReason }[] = [];
  for (const e of endpoints) {
    const reason = refusal(e.address, policy);
    if (reason === null) kept.push(e);
    else refused.push({ endpoint: e, reason });
  }
  return { kept, refused };
}
