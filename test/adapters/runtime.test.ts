import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HaproxyProtocolError } from '../../src/errors.ts';
import { command } from '../../src/core/commands.ts';
import { READS } from '../../src/haproxy/requests.ts';
import { HaproxyRuntime } from '../../src/haproxy/runtime.ts';
import { exchange } from '../../src/haproxy/socket.ts';
import { haproxy26 } from '../support/fixtures.ts';

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
    const bound = READS.info.maxBytes + READS.state('be_app').maxBytes;
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

describe('add and del server on the wire', () => {
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
  const path = join(mkdtempSync(join(tmpdir(), 'hda-dyn-')), 'admin.sock');
  const lines: string[] = [];
  let version = '2.4.22';
  /** Answers like HAProxy 2.4: show info, a state dump, and the add/del replies without their newline. */
  const server = net.createServer({ allowHalfOpen: true }, (c) => {
    let buf = '';
    c.on('data', (d: Buffer) => (buf += d.toString()));
    c.on('end', () => {
      const line = buf.trim();
      lines.push(line);
      const replies = line.split(';').map((cmd) => {
        if (cmd === 'show info') return `Version: ${version}\nPid: 7\nUptime_sec: 1\n\n`;
        if (cmd.startsWith('show servers state'))
          return '1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n\n';
        if (cmd === 'show stat be_app 6 -1') return '# pxname,svname,bck,cookie,algo,mode,addr\n\n';
        if (cmd === 'experimental-mode on') return '\n';
        // 2.4: no LF of its own, only the separator's; 2.5+: its LF, then the separator's.
        if (cmd.startsWith('add server')) return version.startsWith('2.4') ? 'New server registered.\n' : 'New server registered.\n\n';
        if (cmd.startsWith('del server')) return 'Server deleted.\n';
        if (cmd === 'show cli level') return 'admin\n\n';
        return '\n';
      });
      c.end(replies.join(''));
    });
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(path, r));
  });
  afterAll(() => {
    server.close();
  });

  it('turns experimental mode on first on 2.4 and 2.5, and never leaves "del server" last on a line', async () => {
    const port = new HaproxyRuntime({ kind: 'unix', path }, { timeoutMs: 2_000, retries: 0 });
    await port.observe(['be_app']);
    const results = await port.apply([add, command('be_app', { kind: 'del-server', backend: 'be_app', server: 'srv-a2' })]);
    // 2.4: each add server is followed by a command that always answers (its reply lacks its newline).
    expect(lines.at(-1)).toBe(
      'experimental-mode on;add server be_app/srv-a1 10.0.0.1:80 id 1;show cli level;del server be_app/srv-a2;show cli level',
    );
    expect(results.map((r) => [r.text, r.verdict.ok])).toEqual([
      ['add server be_app/srv-a1 10.0.0.1:80 id 1', true],
      ['del server be_app/srv-a2', true],
    ]);
  });

  it('sends add server alone from 2.6', async () => {
    version = '2.6.12';
    const port = new HaproxyRuntime({ kind: 'unix', path }, { timeoutMs: 2_000, retries: 0 });
    await port.observe(['be_app']);
    await port.apply([add]);
    expect(lines.at(-1)).toBe('add server be_app/srv-a1 10.0.0.1:80 id 1');
  });
});

describe('reading a HAProxy process the port has not read before', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'hda-fresh-')), 'admin.sock');
  const lines: string[] = [];
  let pid = 7;
  /** Answers like HAProxy 2.6 (the 2.6.12 captures), as process `pid`. */
  const server = net.createServer({ allowHalfOpen: true }, (c) => {
    let buf = '';
    c.on('data', (d: Buffer) => (buf += d.toString()));
    c.on('end', () => {
      const line = buf.trim();
      lines.push(line);
      const replies = line.split(';').map((cmd) => {
        if (cmd === 'show info') return haproxy26('show-info.txt').replace(/^Pid: \d+$/m, `Pid: ${String(pid)}`);
        if (cmd === 'show servers state be_app') return haproxy26('show-servers-state-be.txt');
        if (cmd === 'show stat be_app 6 -1') return haproxy26('show-stat-be.txt');
        if (cmd === 'show cli level') return 'admin\n\n';
        return '\n';
      });
      c.end(replies.join(''));
    });
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(path, r));
  });
  afterAll(() => {
    server.close();
  });

  it('asks its show stat (and, from 2.0, its level) on the line that reads it: a new process is filled in two exchanges, not four', async () => {
    const port = new HaproxyRuntime({ kind: 'unix', path }, { timeoutMs: 2_000, retries: 0 });
    const first = await port.observe(['be_app']);
    expect(first.backends.get('be_app')?.facts.cookieName).toBe('SRVID');
    await port.isAdmin(first.info); // the version was not known before that read: the level is asked apart
    await port.observe(['be_app']);
    expect(lines.splice(0)).toEqual([
      'show info;show servers state be_app;show stat be_app 6 -1',
      'show cli level',
      'show info;show servers state be_app',
    ]);
    pid = 8; // a reload
    const info = await port.info();
    const next = await port.observe(['be_app']);
    expect([next.info.pid, await port.isAdmin(info)]).toEqual([8, true]);
    expect(lines.splice(0)).toEqual(['show info', 'show info;show servers state be_app;show stat be_app 6 -1;show cli level']);
  });
});
