import { closeSync, openSync, readSync } from 'node:fs';
import type * as Crypto from 'node:crypto';
import { createRequire } from 'node:module';

/** Bytes read from the kernel at a time: 1024 IDs. */
const POOL_BYTES = 2_048;
let pool: Buffer = Buffer.alloc(0);
let at = 0;

/**
 * A DNS query ID: 16 bits from the kernel's random source (/dev/urandom), which an
 * off-path attacker cannot guess (RFC 5452). node:crypto gives the same bits, but loading
 * it (OpenSSL) costs resident memory for two bytes a query
 * (docs/decisions/0004-query-ids-from-urandom.md); the bytes are read 2 KiB at a time.
 * Where /dev/urandom cannot be read, node:crypto fills the pool.
 */
export function randomId(): number {
  if (at + 2 > pool.length) {
    pool = fill(Buffer.allocUnsafe(POOL_BYTES));
    at = 0;
  }
  const id = pool.readUInt16BE(at);
  at += 2;
  return id;
}

function fill(buf: Buffer): Buffer {
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      for (let n = 0; n < buf.length;) n += readSync(fd, buf, n, buf.length - n, null);
    } finally {
      closeSync(fd);
    }
  } catch {
    (createRequire(import.meta.url)('node:crypto') as typeof Crypto).randomFillSync(buf);
  }
  return buf;
}
