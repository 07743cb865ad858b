import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dynamicCookie } from '../../src/core/cookie.ts';
import { haproxy18 } from './fixtures.ts';

/** A server of the fake, in HAProxy's own terms. */
export type FakeServer = {
  name: string;
  address: string;
  port: number;
  /** srv_admin_state bits. */
  admin: number;
  weight: number;
  opState: number;
  backup: boolean;
  sessions: number;
};

/** What the fake does instead of answering a command, for the faults a real HAProxy will not make on demand. */
export type Fault = 'permission-denied' | 'no-closing-empty-line' | 'close-mid-reply' | 'hang' | 'unknown-command';

const STATE_HEADER_18 =
  '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord';

/**
 * A runtime-API server on a UNIX socket that answers like HAProxy 1.8.30 (its replies are
 * taken from the 1.8.30 transcripts in test/fixtures): one backend of server-template
 * slots, the `show` and `set server` commands the agent uses, and fault knobs.
 */
export class FakeHaproxy {
  readonly socket: string;
  readonly received: string[] = [];
  readonly servers: FakeServer[];
  pid = 16218;
  uptime = 1;
  algo = 'roundrobin';
  cookieKey = 'MYKEY';
  /** Fault for commands starting with the key (e.g. 'set server'). */
  readonly faults = new Map<string, Fault>();
  /** Extra columns appended to the state header (to fake an unknown layout). */
  extraStateColumns = 0;
  /** A row appended to `show servers state` as it is (a malformed one, say). */
  extraStateRow: string | null = null;
  #server: net.Server | null = null;
  readonly #conns = new Set<net.Socket>();

  readonly backend: string;

  constructor(backend = 'be_app', slots = 5) {
    this.backend = backend;
    this.socket = join(mkdtempSync(join(tmpdir(), 'hda-fake-')), 'admin.sock');
    this.servers = Array.from({ length: slots }, (_, i) => ({
      name: `srv${String(i + 1)}`,
      address: '127.0.0.1',
      port: 9,
      admin: 5,
      weight: 1,
      opState: 0,
      backup: false,
      sessions: 0,
    }));
  }

  async start(): Promise<void> {
    // allowHalfOpen: the agent half-closes after its line, as socat does; HAProxy still answers.
    const server = net.createServer({ allowHalfOpen: true }, (c) => {
      this.#onConnection(c);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socket, () => {
        resolve();
      });
    });
    this.#server = server;
  }

  async stop(): Promise<void> {
    for (const c of this.#conns) c.destroy();
    const server = this.#server;
    if (server !== null)
      await new Promise<void>((r) =>
        server.close(() => {
          r();
        }),
      );
    this.#server = null;
  }

  /** The `set server` commands received, in order. */
  sets(): string[] {
    return this.received.filter((c) => c.startsWith('set server'));
  }

  /** "addr:port" of the servers that are ready. */
  ready(): string[] {
    return this.servers
      .filter((s) => (s.admin & 0x3b) === 0)
      .map((s) => `${s.address}:${String(s.port)}`)
      .sort();
  }

  #onConnection(c: net.Socket): void {
    this.#conns.add(c);
    c.on('close', () => this.#conns.delete(c));
    c.on('error', () => c.destroy());
    let buf = '';
    c.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      buf = '';
      let out = '';
      for (const raw of line.split(';')) {
        const cmd = raw.trim();
        this.received.push(cmd);
        const fault = [...this.faults].find(([prefix]) => cmd.startsWith(prefix))?.[1];
        if (fault === 'hang') return;
        if (fault === 'close-mid-reply') {
          c.end(out + this.#reply(cmd).slice(0, 5));
          return;
        }
        if (fault === 'permission-denied') out += 'Permission denied\n\n';
        else if (fault === 'unknown-command') out += haproxy18('20-add-server.txt').reply;
        else if (fault === 'no-closing-empty-line') out += this.#reply(cmd).replace(/\n$/, '');
        else out += this.#reply(cmd);
      }
      c.end(out);
    });
  }

  #reply(cmd: string): string {
    if (cmd === 'show info') return this.#info();
    let m = /^show servers state (\S+)$/.exec(cmd);
    if (m) return m[1] === this.backend ? this.#state() : "Can't find backend.\n\n";
    m = /^show stat (\S+) 6 -1$/.exec(cmd);
    if (m) return this.#stat();
    m = /^set server ([^/\s]+)\/(\S+) (addr|weight|state) (.+)$/.exec(cmd);
    if (m) {
      const [, be, name, what, arg = ''] = m;
      const s = this.servers.find((x) => x.name === name);
      if (be !== this.backend || s === undefined) return be !== this.backend ? 'No such backend.\n\n' : 'No such server.\n\n';
      return this.#set(s, what ?? '', arg);
    }
    return haproxy18('20-add-server.txt').reply;
  }

  #set(s: FakeServer, what: string, arg: string): string {
    if (what === 'addr') {
      const [address = '', , port] = arg.split(' ');
      const before = `IP changed from '${s.address}' to '${address}', port changed from '${String(s.port)}' to '${port ?? ''}'`;
      s.address = address;
      s.port = Number(port);
      s.admin &= ~0x20;
      return `${before} by 'stats socket command'\n\n`;
    }
    if (what === 'weight') {
      const w = Number(arg);
      if (!Number.isInteger(w) || w < 0 || w > 256) return 'Absolute weight can only be between 0 and 256 inclusive.\n\n';
      if (this.algo === 'static-rr' && w !== 0 && w !== 1)
        return "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n\n";
      s.weight = w;
      return '\n';
    }
    // 1.8 `set server state`: ready clears FMAINT+FDRAIN, drain sets FDRAIN, maint sets FMAINT.
    if (arg === 'ready') s.admin &= ~0x09;
    else if (arg === 'drain') s.admin = (s.admin & ~0x01) | 0x08;
    else if (arg === 'maint') s.admin = (s.admin & ~0x08) | 0x01;
    else return "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n";
    s.opState = (s.admin & 0x01) === 0 ? 2 : 0;
    return '\n';
  }

  #info(): string {
    const t = haproxy18('02-show-info.txt').reply;
    return t.replace(/^Pid: \d+$/m, `Pid: ${String(this.pid)}`).replace(/^Uptime_sec: \d+$/m, `Uptime_sec: ${String(this.uptime)}`);
  }

  #state(): string {
    const extra = ' x'.repeat(this.extraStateColumns);
    const rows = this.servers.map(
      (s, i) =>
        `3 ${this.backend} ${String(i + 1)} ${s.name} ${s.address} ${String(s.opState)} ${String(s.admin)} ${String(s.weight)} 1 1 1 0 0 6 0 0 0 - ${String(s.port)} -${' 0'.repeat(this.extraStateColumns)}`,
    );
    if (this.extraStateRow !== null) rows.push(this.extraStateRow);
    return `1\n${STATE_HEADER_18}${extra}\n${rows.join('\n')}\n\n`;
  }

  #stat(): string {
    const fixture = haproxy18('05-show-stat.txt').reply.split('\n');
    const header = fixture[0] ?? '';
    const names = header.slice(2).split(',');
    const row = (values: Record<string, string>): string => names.map((n) => values[n] ?? '').join(',');
    const rows = this.servers.map((s) =>
      row({
        pxname: this.backend,
        svname: s.name,
        scur: String(s.sessions),
        status: (s.admin & 0x01) !== 0 ? 'MAINT' : (s.admin & 0x08) !== 0 ? 'DRAIN' : 'UP',
        weight: String(s.weight),
        act: s.backup ? '0' : '1',
        bck: s.backup ? '1' : '0',
        addr: s.address === '-' ? '' : `${s.address}:${String(s.port)}`,
        cookie: s.address === '-' ? '' : dynamicCookie(this.cookieKey, s.address, s.port),
      }),
    );
    rows.push(row({ pxname: this.backend, svname: 'BACKEND', cookie: 'SRVID', algo: this.algo }));
    return `${header}\n${rows.join('\n')}\n\n`;
  }
}
