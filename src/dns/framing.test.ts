import { describe, expect, it } from 'vitest';
import { frameTcp, TcpFrameReader } from './framing.ts';

const messages = [Buffer.from('first message'), Buffer.alloc(0), Buffer.from([0, 1, 2, 3, 255]), Buffer.alloc(700, 7)];
const stream = Buffer.concat(messages.map(frameTcp));
const hex = (bufs: readonly Buffer[]): string[] => bufs.map((b) => b.toString('hex'));
const want = hex(messages);

describe('DNS over TCP framing', () => {
  it('gives back every message whatever the stream is split at (every single offset, and every pair)', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = new TcpFrameReader();
      const got = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
      expect(hex(got), `split at ${String(cut)}`).toEqual(want);
      expect(r.pending).toBe(0);
    }
    for (let a = 0; a <= 40; a++) {
      for (let b = a; b <= stream.length; b += 7) {
        const r = new TcpFrameReader();
        const got = [...r.push(stream.subarray(0, a)), ...r.push(stream.subarray(a, b)), ...r.push(stream.subarray(b))];
        expect(hex(got)).toEqual(want);
      }
    }
  });

  it('gives back messages byte by byte', () => {
    const r = new TcpFrameReader();
    const got: Buffer[] = [];
    for (const byte of stream) got.push(...r.push(Buffer.from([byte])));
    expect(hex(got)).toEqual(want);
  });

  it('holds an incomplete message and says how much it holds', () => {
    const r = new TcpFrameReader();
    expect(r.push(stream.subarray(0, 5))).toEqual([]);
    expect(r.pending).toBe(5);
  });

  it('refuses to frame a message longer than the length prefix can say', () => {
    expect(() => frameTcp(Buffer.alloc(65_536))).toThrow(/at most 65535/);
  });
});
