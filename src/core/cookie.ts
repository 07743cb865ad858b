import { ipBytes } from './ip.ts';

const MASK = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;

const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & MASK;
const mul = (a: bigint, b: bigint): bigint => (a * b) & MASK;
const add = (a: bigint, b: bigint): bigint => (a + b) & MASK;

function read64(b: Uint8Array, i: number): bigint {
  let v = 0n;
  for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(b[i + k] ?? 0);
  return v;
}

function read32(b: Uint8Array, i: number): bigint {
  return BigInt(((b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16) | ((b[i + 3] ?? 0) << 24)) >>> 0);
}

function round(acc: bigint, input: bigint): bigint {
  return mul(rotl(add(acc, mul(input, P2)), 31n), P1);
}

function mergeRound(acc: bigint, val: bigint): bigint {
  return add(mul(acc ^ round(0n, val), P1), P4);
}

/** XXH64 (the reference algorithm, as HAProxy links it) of `data`. */
export function xxh64(data: Uint8Array, seed = 0n): bigint {
  const len = data.length;
  let i = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = add(add(seed, P1), P2);
    let v2 = add(seed, P2);
    let v3 = seed;
    let v4 = (seed - P1) & MASK;
    for (; i + 32 <= len; i += 32) {
      v1 = round(v1, read64(data, i));
      v2 = round(v2, read64(data, i + 8));
      v3 = round(v3, read64(data, i + 16));
      v4 = round(v4, read64(data, i + 24));
    }
    h = add(add(rotl(v1, 1n), rotl(v2, 7n)), add(rotl(v3, 12n), rotl(v4, 18n)));
    h = mergeRound(mergeRound(mergeRound(mergeRound(h, v1), v2), v3), v4);
  } else {
    h = add(seed, P5);
  }
  h = add(h, BigInt(len));
  for (; i + 8 <= len; i += 8) h = add(mul(rotl(h ^ round(0n, read64(data, i)), 27n), P1), P4);
  if (i + 4 <= len) {
    h = add(mul(rotl(h ^ mul(read32(data, i), P1), 23n), P2), P3);
    i += 4;
  }
  for (; i < len; i++) h = mul(rotl(h ^ mul(BigInt(data[i] ?? 0), P5), 11n), P1);
  h = mul(h ^ (h >> 33n), P2);
  h = mul(h ^ (h >> 29n), P3);
  return h ^ (h >> 32n);
}

/**
 * The cookie HAProxy's `cookie <name> insert dynamic` gives a server (srv_set_dyncookie,
 * 1.8 -> 3.x): XXH64, seed 0, of key || address bytes || port as 4 big-endian bytes,
 * printed as 16 hex digits. It depends on nothing else, so every replica agrees.
 */
export function dynamicCookie(key: string, address: string, port: number): string {
  const k = new TextEncoder().encode(key);
  const ip = ipBytes(address);
  const buf = new Uint8Array(k.length + ip.length + 4);
  buf.set(k, 0);
  buf.set(ip, k.length);
  new DataView(buf.buffer).setUint32(k.length + ip.length, port, false);
  return xxh64(buf).toString(16).padStart(16, '0');
}
