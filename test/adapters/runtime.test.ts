import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HaproxyProtocolError } from '../../src/errors.ts';
import { HaproxyRuntime, replyBound } from '../../src/haproxy/runtime.ts';
import { exchange } from '../../src/haproxy/socket.ts';

describe('a runtime-API peer that answers without end', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'hda-flood-')), 'admin.sock');
  let written = 0;
  const server = net.createServer((c) => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const pump = (): void => {
      while (!c.destroyed && c.write(chunk)) written += chunk.length;
      if (!c.destroyed) c.once('drain', pump);
    };
    c.on('error', () => undefined);
    pump();
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(path, r));
  });
  afterAll(() => {
    server.close();
  });

  it('is read up to a bound derived from what was asked, then left with a soft error naming the bound', async () => {
    const bound = replyBound(['show info', 'show servers state be_app']);
    expect(bound).toBe((64 << 10) + (4 << 20));
    const err: unknown = await exchange({ kind: 'unix', path }, 'show info;show servers state be_app', 10_000, bound).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HaproxyProtocolError);
    expect((err as HaproxyProtocolError).soft).toBe(true);
    expect((err as Error).message).toContain(`reply larger than ${String(bound)} bytes`);
    expect(written).toBeLessThan(bound * 4);
  });

  it('makes the port report it as a soft error, not read 300 MB', async () => {
    const port = new HaproxyRuntime({ kind: 'unix', path }, { timeoutMs: 10_000, retries: 0 });
    await expect(port.observe(['be_app'])).rejects.toThrow(/reply larger than \d+ bytes/);
  });
});
