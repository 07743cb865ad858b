/**
 * DNS over TCP framing (RFC 1035 4.2.2, RFC 7766 8): every message is preceded by its
 * length in two bytes, and a stream may split or join messages anywhere. Pure: bytes in,
 * whole messages out; the socket only moves bytes.
 */
export class TcpFrameReader {
  #buf: Buffer = Buffer.alloc(0);

  /** Adds bytes that arrived; returns every message they complete, in order. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let buf = chunk;
    const held = this.#buf;
    if (held.length >= 2) {
      // Completes the message held over, copying its bytes only, not the whole chunk.
      const need = 2 + held.readUInt16BE(0) - held.length;
      if (chunk.length < need) {
        this.#buf = Buffer.concat([held, chunk]);
        return out;
      }
      out.push(Buffer.concat([held, chunk.subarray(0, need)]).subarray(2));
      buf = chunk.subarray(need);
    } else if (held.length === 1) buf = Buffer.concat([held, chunk]);
    while (buf.length >= 2) {
      const len = buf.readUInt16BE(0);
      if (buf.length < 2 + len) break;
      out.push(buf.subarray(2, 2 + len));
      buf = buf.subarray(2 + len);
    }
    this.#buf = buf;
    return out;
  }

  /** Bytes held for a message not complete yet. */
  get pending(): number {
    return this.#buf.length;
  }
}

/** One message with its two-byte length prefix. */
export function frameTcp(message: Buffer): Buffer {
  if (message.length > 0xffff) throw new RangeError(`DNS message of ${String(message.length)} bytes: over TCP at most 65535`);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(message.length);
  return Buffer.concat([len, message]);
}
