/**
 * DNS over TCP framing (RFC 1035 4.2.2, RFC 7766 8): every message is preceded by its
 * length in two bytes, and a stream may split or join messages anywhere. Pure: bytes in,
 * whole messages out; the socket only moves bytes.
 */
export class TcpFrameReader {
  #buf: Buffer = Buffer.alloc(0);

  /** Adds bytes that arrived; returns every message they complete, in order. */
  push(chunk: Buffer): Buffer[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: Buffer[] = [];
    while (this.#buf.length >= 2) {
      const len = this.#buf.readUInt16BE(0);
      if (this.#buf.length < 2 + len) break;
      out.push(this.#buf.subarray(2, 2 + len));
      this.#buf = this.#buf.subarray(2 + len);
    }
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
