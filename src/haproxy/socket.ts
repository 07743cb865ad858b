import net from 'node:net';
import { describeSocket, type SocketAddress } from '../config/model.ts';
import { HaproxyProtocolError, HaproxyUnavailableError } from '../errors.ts';

/**
 * One non-interactive exchange: connect, write one line, read until HAProxy closes, or
 * until `maxBytes` arrived (a soft protocol error).
 * A fresh connection per line also means a reload never leaves us talking to an old
 * worker (a kept-open CLI connection stays pinned to the process that accepted it).
 */
export function exchange(address: SocketAddress, line: string, timeoutMs: number, maxBytes = Infinity): Promise<string> {
  return new Promise((resolve, reject) => {
    const where = describeSocket(address);
    const sock = address.kind === 'unix' ? net.connect(address.path) : net.connect(address.port, address.host);
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    /** The line was handed to the socket: HAProxy may have run it, whatever happens next. */
    let written = false;
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err === null) resolve(Buffer.concat(chunks).toString('utf8'));
      else reject(err);
    };
    const timer = setTimeout(() => {
      finish(new HaproxyUnavailableError(`HAProxy socket ${where}: no complete reply within ${String(timeoutMs)}ms`, written));
    }, timeoutMs);
    sock.on('connect', () => {
      written = true;
      sock.end(`${line}\n`);
    });
    sock.on('data', (c: Buffer) => {
      received += c.length;
      chunks.push(c);
      // A peer that answers without end is not read whole: the exchange ends at the bound.
      if (received > maxBytes) {
        finish(
          new HaproxyProtocolError(
            `HAProxy socket ${where}: reply larger than ${String(maxBytes)} bytes for what was asked; not read further`,
            true,
          ),
        );
      }
    });
    sock.on('end', () => {
      finish(null);
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      finish(new HaproxyUnavailableError(`HAProxy socket ${where}: ${socketErrorText(e)}`, written));
    });
  });
}

function socketErrorText(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT':
      return 'no such socket (is HAProxy running, with a `stats socket` line at this path?)';
    case 'ECONNREFUSED':
      return 'connection refused (HAProxy not listening there, or restarting)';
    case 'EACCES':
      return 'permission denied on the socket file (check its `mode` and group)';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection closed by HAProxy before it answered';
    case undefined:
    default:
      return e.message;
  }
}
