import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judgeResults } from '../../src/agent/decide.ts';
import { command } from '../../src/core/commands.ts';
import type { Step } from '../../src/core/steps.ts';
import { HaproxyRuntime } from '../../src/haproxy/runtime.ts';
import { FakeHaproxy, slot } from '../support/fake-haproxy.ts';

const STATE_HEADER =
  '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port';

type Server = { name: string; address: string; port: number; backup: boolean };

/**
 * A runtime-API socket scripted after HAProxy 2.6, or 2.4.0: one backend, `show info`,
 * `show servers state`, `show stat` (counted), `add server` (with `backup`; 2.4 refuses
 * `check` and, as with its other `add server` messages, prints no newline of its own),
 * `set server` and `enable health`.
 */
class ScriptedHaproxy {
  readonly servers: Server[] = [{ name: 'srv1', address: '127.0.0.1', port: 9, backup: false }];
  statReads = 0;
  /** Every line received. */
  readonly lines: string[] = [];
  readonly version: string;

  constructor(version: string) {
    this.version = version;
  }

  readonly #server = net.createServer({ allowHalfOpen: true }, (c) => {
    let buf = '';
    c.on('data', (d: Buffer) => (buf += d.toString()));
    c.on('end', () => {
      this.lines.push(buf.trim());
      c.end(
        buf
          .trim()
          .split(';')
          .map((cmd) => this.#reply(cmd))
          .join(''),
      );
    });
  });

  listen(path: string): Promise<void> {
    return new Promise((resolve) => this.#server.listen(path, resolve));
  }

  close(): void {
    this.#server.close();
  }

  #reply(cmd: string): string {
    const on24 = this.version.startsWith('2.4.');
    if (cmd === 'show info') return `Version: ${this.version}\nPid: 7\nUptime_sec: 1\n\n`;
    if (cmd === 'experimental-mode on') return '\n';
    if (cmd === 'show cli level') return 'admin\n\n';
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
    const add = /^add server be_app\/(\S+) (\S+):(\d+) id \d+( backup)?( check)?$/.exec(cmd);
    if (add !== null) {
      if (on24 && add[5] !== undefined) return "'check' option is not accepted for dynamic server\n";
      this.servers.push({ name: add[1] ?? '', address: add[2] ?? '', port: Number(add[3]), backup: add[4] !== undefined });
      return on24 ? 'New server registered.\n' : 'New server registered.\n\n';
    }
    const set = /^(?:set server|enable health) be_app\/(\S+)/.exec(cmd);
    if (set !== null) return this.servers.some((s) => s.name === set[1]) ? '\n' : 'No such server.\n\n';
    return 'Unknown command.\n\n';
  }
}

/** `add server` of `server` on `address`:8080 in be_app, its id the server's number unless given. */
const addStep = (server: string, address: string, o: { backup?: boolean; check?: boolean; id?: number } = {}): Step => ({
  kind: 'add-server',
  backend: 'be_app',
  server,
  address,
  port: 8080,
  id: o.id ?? Number(server.replace(/\D/g, '')),
  backup: o.backup === true,
  check: o.check === true,
});

describe('the backup flag of a server added at run time', () => {
  const haproxy = new ScriptedHaproxy('2.6.12');
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
    await port.apply([command('be_app', addStep('srv-a1', '10.0.0.3', { backup: true }))]);
    const snap = await port.observe(['be_app']);
    expect([...(snap.backends.get('be_app')?.facts.backup ?? [])]).toEqual(['srv-a1']);
    await port.observe(['be_app']);
    expect(haproxy.statReads).toBe(2);
  });

  it('is read again when a server was deleted and another of its name added, as a backup this time', async () => {
    const fake = new FakeHaproxy({ be_app: [slot('srv1'), slot('srv-a1', { id: 7 })] });
    fake.version = '2.6.12';
    await fake.start();
    try {
      const port = new HaproxyRuntime({ kind: 'unix', path: fake.socket }, { timeoutMs: 2_000, retries: 0 });
      await port.observe(['be_app']);
      await port.apply([command('be_app', { kind: 'del-server', backend: 'be_app', server: 'srv-a1' })]);
      await port.observe(['be_app']); // the server gone
      await port.apply([command('be_app', addStep('srv-a1', '10.0.0.3', { backup: true, id: 7 }))]);
      const snap = await port.observe(['be_app']);
      expect([...(snap.backends.get('be_app')?.facts.backup ?? [])]).toEqual(['srv-a1']);
    } finally {
      await fake.stop();
    }
  });
});

describe('a batch on HAProxy 2.4.0, which refuses check on an added server', () => {
  const haproxy = new ScriptedHaproxy('2.4.0');
  const path = join(mkdtempSync(join(tmpdir(), 'hda-added-24-')), 'admin.sock');
  beforeAll(() => haproxy.listen(path));
  afterAll(() => {
    haproxy.close();
  });

  it('judges the refused command on its own and still reads the replies of the others', async () => {
    const port = new HaproxyRuntime({ kind: 'unix', path }, { timeoutMs: 2_000, retries: 0 });
    await port.observe(['be_app']);
    const steps: Step[] = [
      addStep('srv-a1', '10.0.0.2', { check: true }),
      { kind: 'set-weight', backend: 'be_app', server: 'srv-a1', weight: 256 },
      { kind: 'enable-health', backend: 'be_app', server: 'srv-a1' },
      { kind: 'set-state', backend: 'be_app', server: 'srv-a1', state: 'ready' },
      addStep('srv-a2', '10.0.0.3'),
      { kind: 'set-state', backend: 'be_app', server: 'srv-a2', state: 'ready' },
    ];
    const commands = steps.map((step) => command('be_app', step).text);
    const results = await port.apply(steps.map((step) => command('be_app', step)));
    expect(results.map((r) => [r.text, r.reply, r.verdict.ok])).toEqual([
      [commands[0], "'check' option is not accepted for dynamic server", false],
      [commands[1], 'No such server.', false],
      [commands[2], 'No such server.', false],
      [commands[3], 'No such server.', false],
      [commands[4], 'New server registered.', true],
      [commands[5], '', true],
    ]);
    expect(judgeResults('memory', results).findings[0]).toEqual({
      kind: 'command-rejected',
      backend: 'be_app',
      socket: 'memory',
      command: commands[0],
      reply: "'check' option is not accepted for dynamic server",
    });
  });

  it('never leaves add server last on a line, where its reply could not be framed', async () => {
    const port = new HaproxyRuntime({ kind: 'unix', path }, { timeoutMs: 2_000, retries: 0 });
    await port.observe(['be_app']);
    const [result] = await port.apply([command('be_app', addStep('srv-a3', '10.0.0.4', { check: true }))]);
    expect(haproxy.lines.at(-1)).toBe('experimental-mode on;add server be_app/srv-a3 10.0.0.4:8080 id 3 check;show cli level');
    expect(result?.verdict.ok).toBe(false);
  });
});
