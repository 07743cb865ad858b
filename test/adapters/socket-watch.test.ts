import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HaproxyRuntime } from '../../src/haproxy/runtime.ts';
import { SocketPathWatch } from '../../src/haproxy/watch.ts';
import { waitFor } from '../support/procs.ts';

describe('the watch on a socket path (a new HAProxy process binds its socket and renames it into place)', () => {
  const root = mkdtempSync(join(tmpdir(), 'hda-watch-'));
  const stops: (() => void)[] = [];
  afterEach(() => {
    for (const stop of stops.splice(0)) stop();
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('calls back when a file is renamed onto the path, and not for the other files of the folder', async () => {
    const dir = mkdtempSync(join(root, 'run-'));
    const path = join(dir, 'admin.sock');
    let calls = 0;
    const w = new SocketPathWatch(path, () => calls++);
    stops.push(() => {
      w.close();
    });
    expect(w.ensure()).toBe(true);
    // What HAProxy does beside it: a backup link and a temporary name, each its own entry.
    writeFileSync(`${path}.4242.tmp`, '');
    writeFileSync(join(dir, 'server-state'), '1\n');
    await delay(100);
    expect(calls).toBe(0);
    renameSync(`${path}.4242.tmp`, path);
    await waitFor('the callback', () => calls > 0, 2_000);
  });

  it('watches a folder that appears later, once asked again, and nothing once closed', async () => {
    const dir = join(root, 'later');
    const path = join(dir, 'admin.sock');
    let calls = 0;
    const w = new SocketPathWatch(path, () => calls++);
    expect(w.ensure()).toBe(false); // no folder yet: the agent started before HAProxy's volume
    mkdirSync(dir);
    expect(w.ensure()).toBe(true);
    writeFileSync(path, '');
    await waitFor('the callback', () => calls > 0, 2_000);
    w.close();
    const seen = calls;
    rmSync(path);
    writeFileSync(path, '');
    await delay(100);
    expect([calls, w.ensure()]).toEqual([seen, false]);
  });

  it("is the runtime port's watch for a UNIX socket, which asks for the folder again at each full read", async () => {
    const dir = join(root, 'port');
    const path = join(dir, 'admin.sock');
    const port = new HaproxyRuntime({ kind: 'unix', path }, { timeoutMs: 200, retries: 0 });
    let calls = 0;
    stops.push(port.watch(() => calls++));
    mkdirSync(dir);
    await expect(port.observe(['be_app'])).rejects.toThrow(/no such socket/); // HAProxy not there yet; the folder is
    writeFileSync(path, '');
    await waitFor('the callback', () => calls > 0, 2_000);
    const tcp = new HaproxyRuntime({ kind: 'tcp', host: '127.0.0.1', port: 1 }, { timeoutMs: 200, retries: 0 });
    expect(() => {
      tcp.watch(() => calls++)();
    }).not.toThrow(); // nothing to watch on a TCP socket
  });
});
