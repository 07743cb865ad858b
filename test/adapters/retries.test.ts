import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HaproxyUnavailableError } from '../../src/errors.ts';
import { command } from '../../src/core/commands.ts';
import { HaproxyRuntime } from '../../src/haproxy/runtime.ts';

/**
 * A runtime API that reads each line and never answers, as an overloaded or hung process
 * would: the command may have run. Only what is safe to run twice is sent again.
 */
describe('commands cut off after they were sent', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'hda-cut-')), 'admin.sock');
  const lines: string[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (c) => {
    let buf = '';
    c.on('data', (d: Buffer) => (buf += d.toString()));
    c.on('error', () => undefined);
    c.on('end', () => {
      lines.push(buf.trim());
      conns.push(c); // held open, unanswered
    });
  });
  const conns: net.Socket[] = [];
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(path, r));
  });
  afterAll(() => {
    for (const c of conns) c.destroy();
    server.close();
  });

  const port = (): HaproxyRuntime => new HaproxyRuntime({ kind: 'unix', path }, { timeoutMs: 150, retries: 2 });

  it('never sends "add server" or "del server" again blind', async () => {
    lines.length = 0;
    const add = command('be_app', {
      kind: 'add-server',
      backend: 'be_app',
      server: 'srv-a1',
      address: '10.0.0.1',
      port: 80,
      id: 1,
      backup: false,
      check: false,
    });
    const err: unknown = await port()
      .apply([add])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HaproxyUnavailableError);
    expect(lines).toEqual(['add server be_app/srv-a1 10.0.0.1:80 id 1']);
  });

  it('sends "set server" again, which changes nothing when run twice', async () => {
    lines.length = 0;
    await port()
      .apply([command('be_app', { kind: 'set-state', backend: 'be_app', server: 'srv1', state: 'ready' })])
      .catch(() => null);
    expect(lines).toEqual(Array(3).fill('set server be_app/srv1 state ready'));
  });
});
