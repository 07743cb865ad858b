import { execFileSync } from 'node:child_process';
import {
  closeSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dumpServersState, MAX_SERVER_STATE_BYTES } from '../../src/haproxy/server-state.ts';
import { serverStateFilePresent, writeServerStateFile } from '../../src/state/server-state.ts';
import { victimFolders } from '../support/victim-folders.ts';
import { haproxy26 } from '../support/fixtures.ts';

const DUMP = haproxy26('show-servers-state-named-srv.txt');

describe('the server state file on disk', () => {
  const at = victimFolders('hda-server-state-');

  it('replaces the file whole, readable by its group (HAProxy), and leaves no temporary file beside it', () => {
    const path = join(at.dir, 'server-state');
    expect(serverStateFilePresent(path)).toBe(false);
    writeServerStateFile(path, 'first\n');
    const inode = statSync(path).ino;
    writeServerStateFile(path, DUMP);
    expect(readFileSync(path, 'utf8')).toBe(DUMP);
    expect(statSync(path).ino).not.toBe(inode); // a new file renamed over the old one, never written in place
    // What a file created 0640 gets here (the umask applies to both).
    const reference = `${at.dir}.reference`; // beside the folder, not in it
    closeSync(openSync(reference, 'w', 0o640));
    expect(statSync(path).mode & 0o777).toBe(statSync(reference).mode & 0o777);
    expect(readdirSync(at.dir)).toEqual(['server-state']);
    expect(serverStateFilePresent(path)).toBe(true);
  });

  it('refuses a symbolic link at the path: neither writes through it nor replaces it', () => {
    const path = join(at.dir, 'server-state');
    symlinkSync(at.victim, path);
    expect(() => {
      writeServerStateFile(path, DUMP);
    }).toThrow('a symbolic link is at the path; refused (expected a regular file or none: a link is neither followed nor replaced)');
    expect(readlinkSync(path)).toBe(at.victim);
    expect(readdirSync(at.dir)).toEqual(['server-state']); // no temporary file left
    expect(serverStateFilePresent(path)).toBe(true); // present: its own run does not retry at rest
  });

  it('refuses a FIFO and a folder at the path, leaving them as they are', () => {
    const fifo = join(at.dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(() => {
      writeServerStateFile(fifo, DUMP);
    }).toThrow(/^a FIFO is at the path; refused/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    const folder = join(at.dir, 'folder');
    mkdirSync(folder);
    expect(() => {
      writeServerStateFile(folder, DUMP);
    }).toThrow(/^a folder is at the path; refused/);
    expect(readdirSync(at.dir).sort()).toEqual(['fifo', 'folder']);
  });

  it('throws when the folder cannot be written, leaving nothing', () => {
    expect(() => {
      writeServerStateFile(join(at.dir, 'missing-folder', 'server-state'), DUMP);
    }).toThrow(/ENOENT/);
    expect(readdirSync(at.dir)).toEqual([]);
  });
});

describe('dumpServersState: show servers state over a socket, bounded', () => {
  const servers: net.Server[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'hda-dump-'));
  afterAll(async () => {
    for (const s of servers) await new Promise((r) => s.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  /** A socket that answers every line with `reply` (written in 64 KiB chunks), then closes; what it was asked is kept. */
  async function peer(name: string, reply: string | Buffer): Promise<{ path: string; asked: string[] }> {
    const path = join(dir, name);
    const asked: string[] = [];
    const server = net.createServer((c) => {
      c.once('data', (d) => {
        asked.push(d.toString());
        c.end(reply);
      });
      c.on('error', () => undefined); // the agent closes a reply past the bound
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(path, r));
    return { path, asked };
  }

  it("returns HAProxy's dump exactly as sent, after asking for every backend", async () => {
    const p = await peer('ok.sock', DUMP);
    const got = await dumpServersState({ kind: 'unix', path: p.path }, { timeoutMs: 2_000 });
    expect(got).toEqual({ text: DUMP, header: DUMP.split('\n')[1] });
    expect(p.asked).toEqual(['show servers state\n']);
  });

  it(`stops reading past ${String(MAX_SERVER_STATE_BYTES)} bytes and says so, without throwing; a dump within it is taken`, async () => {
    const line = `3 be_app 1 srv1 10.0.0.1 2 0 1 1 1 1 0 2 0 0 0 0 slot.invalid 8080 - 0 0 - - 0\n`;
    const [version = '', header = ''] = DUMP.split('\n');
    const head = `${version}\n${header}\n`;
    const dumpOf = (lines: number): Buffer => Buffer.from(`${head}${line.repeat(lines)}\n`);
    const most = Math.floor((MAX_SERVER_STATE_BYTES - head.length - 1) / line.length);
    const [fits, huge] = [dumpOf(most), dumpOf(most + 1)];
    expect(fits.length).toBeLessThanOrEqual(MAX_SERVER_STATE_BYTES);
    expect(huge.length).toBeGreaterThan(MAX_SERVER_STATE_BYTES);
    const p = await peer('huge.sock', huge);
    expect(await dumpServersState({ kind: 'unix', path: p.path }, { timeoutMs: 5_000 })).toEqual({
      problem: `HAProxy socket ${p.path}: show servers state answered more than ${String(MAX_SERVER_STATE_BYTES)} bytes, the most this agent writes`,
    });
    const q = await peer('fits.sock', fits);
    expect(await dumpServersState({ kind: 'unix', path: q.path }, { timeoutMs: 5_000 })).toEqual({ text: fits.toString(), header });
  });

  it('says what answered instead of a dump (the master CLI), and that a socket is not there', async () => {
    const p = await peer('master.sock', 'Unknown command. Please enter one of the following commands only :\n  show proc\n\n');
    expect(await dumpServersState({ kind: 'unix', path: p.path }, { timeoutMs: 2_000 })).toEqual({
      problem: `HAProxy socket ${p.path}: show servers state answered "Unknown command. Please enter one of the following commands only :"; expected a server state dump (a line "1", then "# be_id ...", then a line per server)`,
    });
    const missing = join(dir, 'missing.sock');
    expect(await dumpServersState({ kind: 'unix', path: missing }, { timeoutMs: 2_000 })).toEqual({
      problem: `HAProxy socket ${missing}: no such socket (is HAProxy running, with a \`stats socket\` line at this path?)`,
    });
  });
});
