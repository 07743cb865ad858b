import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HaproxyRuntime } from '../../src/haproxy/runtime.ts';

const STATE_HEADER =
  '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port';

type Server = { name: string; address: string; port: number; backup: boolean };

/**
 * A runtime-API socket scripted after HAProxy 2.6: one backend, `show info`, `show servers
 * state`, `show stat` (counted), and `add server` (with `backup`).
 */
class ScriptedHaproxy {
  readonly servers: Server[] = [{ name: 'srv1', address: '127.0.0.1', port: 9, backup: false }];
  statReads = 0;
  readonly #server = net.createServer({ allowHalfOpen: true }, (c) => {
    let buf = '';
    c.on('data', (d: Buffer) => (buf += d.toString()));
    c.on('end', () =>
      c.end(
        buf
          .trim()
          .split(';')
          .map((cmd) => this.#reply(cmd))
          .join(''),
      ),
    );
  });

  listen(path: string): Promise<void> {
    return new Promise((resolve) => this.#server.listen(path, resolve));
  }

  close(): void {
    this.#server.close();
  }

  #reply(cmd: string): string {
    if (cmd === 'show info') return 'Version: 2.6.12\nPid: 7\nUptime_sec: 1\n\n';
    if (cmd === 'show servers state be_app') {
      const rows = this.servers.map(
        (s, i) => `3 be_app ${String(i + 1)} ${s.name} ${s.address} 0 5 1 1 1 1 0 0 14 0 0 0 - ${String(s.port)} - 0 0 - - 0`,
      );
      return `1\n${STATE_HEADER}\n${rows.join('\n')}\n\n`;
    }
    if (cmd === 'show stat be_app 6 -1') {
      this.statReads++;
      const rows = this.servers.map((s) => `be_app,${s.name},0,${s.backup ? '1' : '0'},,,,${s.address}:${String(s.port)}`);
      return `# pxname,svname,scur,bck,cookie,algo,mode,addr\n${rows.join('\n')}\nbe_app,BACKEND,0,0,,roundrobin,http,\n\n`;
    }
    const add = /^add server be_app\/(\S+) (\S+):(\d+)( backup)?$/.exec(cmd);
    if (add !== null) {
      this.servers.push({ name: add[1] ?? '', address: add[2] ?? '', port: Number(add[3]), backup: add[4] !== undefined });
      return 'New server registered.\n\n';
    }
    return 'Unknown command.\n\n';
  }
}

describe('the backup flag of a server added at run time', () => {
  const haproxy = new ScriptedHaproxy();
  // Under the run's TMPDIR (test/global-setup.ts), removed with it.
  const path = join(mkdtempSync(join(tmpdir(), 'hda-added-')), 'admin.sock');
  beforeAll(() => haproxy.listen(path));
  afterAll(() => {
    haproxy.close();
  });

  it('is read from show stat again when the state names a server show stat did not, and only then', async () => {
    const port = new HaproxyRuntime({ kind: 'unix', path }, { timeoutMs: 2_000, retries: 0 });
    await port.observe(['be_app']);
    await port.observe(['be_app']);
    expect(haproxy.statReads).toBe(1); // once per process
    await port.apply([{ backend: 'be_app', text: 'add server be_app/srv-a1 10.0.0.3:8080 backup' }]);
    const snap = await port.observe(['be_app']);
    expect([...(snap.backends.get('be_app')?.facts.backup ?? [])]).toEqual(['srv-a1']);
    await port.observe(['be_app']);
    expect(haproxy.statReads).toBe(2);
  });
});
