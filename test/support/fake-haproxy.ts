import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalIP } from '../../src/core/ip.ts';
import { HaproxyUnavailableError } from '../../src/errors.ts';
import { capabilities, type Capabilities } from '../../src/haproxy/capabilities.ts';
import { HaproxyRuntime } from '../../src/haproxy/runtime.ts';
import {
  ADMIN,
  showInfo,
  showServersState,
  showStat,
  slots,
  stateOf,
  UNKNOWN,
  type FakeBackend,
  type FakeServer,
  type Level,
} from './fake-haproxy-reads.ts';

export { ADMIN, slot, slots, stateOf, type FakeBackend, type FakeServer, type Level } from './fake-haproxy-reads.ts';

/** What the fake does instead of answering a command, for the faults a real HAProxy will not make on demand. */
export type Fault = 'permission-denied' | 'no-closing-empty-line' | 'close-mid-reply' | 'hang' | 'unknown-command' | 'flood';

/** How an exchange ends: the reply and then a close, no answer at all, or an answer without end. */
type Answer = Readonly<{ text: string; end: 'close' | 'hang' | 'flood' }>;

/**
 * HAProxy's runtime API, as one fake: the `show` commands the agent reads, `set server`,
 * `add server`, `del server`, `enable health` and `experimental-mode`, answered as the
 * version in `version` answers them (1.8.30 unless set; replies from the captures in
 * test/fixtures), at the socket's `level`, with knobs for what a real one does on a bad day.
 * Two doors to the same fake: a UNIX socket (`start()`, for the adapter and CLI tests), and
 * an exchange in the same process (`port()`, the real HaproxyRuntime over it: decisions
 * tested in milliseconds, under fake timers).
 */
export class FakeHaproxy {
  /** The name the in-process door gives the socket. */
  label = 'memory';
  version = '1.8.30';
  pid = 16218;
  uptime = 1;
  startTime = 1_000;
  stopping = false;
  level: Level = 'admin';
  readonly backends = new Map<string, FakeBackend>();
  /** Every line received, and every command of them, in order. */
  readonly lines: string[] = [];
  readonly received: string[] = [];
  /** Fault for commands starting with the key (e.g. 'set server'). */
  readonly faults = new Map<string, Fault>();
  /** command -> the reply HAProxy gives instead of running it. */
  readonly replies = new Map<string, string>();
  /** Servers ("be/srv") whose `set server` answers as if it worked but changes nothing (yet). */
  readonly lagging = new Set<string>();
  /** Set: every exchange fails at once with this (in process), or the connection is closed unanswered (socket). */
  unreachable: string | null = null;
  /** Set: every command is answered with this text (something on the socket that is not HAProxy). */
  garbled: string | null = null;
  /** Set: every exchange waits on it before it is answered (a socket that accepts and does not answer yet). */
  hold: Promise<void> | null = null;
  /** Extra columns appended to the state header (to fake an unknown layout). */
  extraStateColumns = 0;
  /** A row appended to `show servers state` as it is (a malformed one, say). */
  extraStateRow: string | null = null;
  /** Lines that read the servers' state, and lines that were `show info` alone. */
  reads = 0;
  infoReads = 0;
  /** Bytes written by a 'flood' fault before the reader went away. */
  flooded = 0;
  /** Names of the servers added at run time (lost on a restart). */
  readonly added = new Set<string>();
  readonly #declared = new Map<string, FakeServer[]>();
  #socket: string | null = null;
  #server: net.Server | null = null;
  readonly #conns = new Set<net.Socket>();

  /** One backend of `slots` slots (`srv1`...), or the backends given, each of the servers given. */
  constructor(backends: string | Record<string, FakeServer[]> = 'be_app', n = 5) {
    const declared = typeof backends === 'string' ? { [backends]: slots(n) } : backends;
    for (const [name, servers] of Object.entries(declared)) {
      this.backends.set(name, { servers, algo: 'roundrobin', cookieName: 'SRVID', cookieKey: 'MYKEY', mode: 'http' });
      this.#declared.set(name, structuredClone(servers));
    }
  }

  /** The path of the UNIX socket door (in a folder of its own, made on first use). */
  get socket(): string {
    this.#socket ??= join(mkdtempSync(join(tmpdir(), 'hda-fake-')), 'admin.sock');
    return this.#socket;
  }

  /** The first backend's name and servers. */
  get backend(): string {
    return [...this.backends.keys()][0] ?? '';
  }
  get servers(): FakeServer[] {
    return this.#first().servers;
  }
  get algo(): string {
    return this.#first().algo;
  }
  set algo(algo: string) {
    this.#first().algo = algo;
  }
  get cookieKey(): string {
    return this.#first().cookieKey;
  }
  set cookieKey(key: string) {
    this.#first().cookieKey = key;
  }

  #first(): FakeBackend {
    const b = this.backends.get(this.backend);
    if (b === undefined) throw new Error('the fake has no backend');
    return b;
  }

  get #caps(): Capabilities {
    const caps = capabilities(this.version);
    if (caps === null) throw new Error(`the fake cannot be HAProxy ${this.version}`);
    return caps;
  }

  /** A restart: a new process, every configured server back as declared, and no added one. */
  restart(): void {
    this.pid++;
    this.uptime = 0;
    this.startTime++;
    for (const [name, b] of this.backends) b.servers = structuredClone(this.#declared.get(name) ?? []);
    this.added.clear();
  }

  /** The real HaproxyRuntime over the in-process door. */
  port(o: Readonly<{ retries?: number; timeoutMs?: number }> = {}): HaproxyRuntime {
    return new HaproxyRuntime(
      { kind: 'unix', path: this.label },
      { timeoutMs: o.timeoutMs ?? 2_000, retries: o.retries ?? 0, exchange: (line) => this.#exchangeInProcess(line) },
    );
  }

  /** Binds the UNIX socket door. */
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

  /** The commands received that change something (not the reads). */
  writes(): string[] {
    return this.received.filter((c) => !c.startsWith('show '));
  }

  /** The `set server` commands received, in order. */
  sets(): string[] {
    return this.received.filter((c) => c.startsWith('set server'));
  }

  /** "addr:port" of the servers of `backend` (the first unless named) that are ready, sorted. */
  ready(backend = this.backend): string[] {
    return (this.backends.get(backend)?.servers ?? [])
      .filter((s) => stateOf(s) === 'ready')
      .map((s) => `${s.address}:${String(s.port)}`)
      .sort();
  }

  async #exchangeInProcess(line: string): Promise<string> {
    if (this.hold !== null) await this.hold;
    if (this.unreachable !== null) throw new HaproxyUnavailableError(`HAProxy socket ${this.label}: ${this.unreachable}`, false);
    const answer = this.#answer(line);
    if (answer.end === 'hang') return new Promise(() => undefined);
    if (answer.end === 'flood') throw new Error('the in-process door does not flood: start() the socket door for that');
    return answer.text;
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
      void this.#answerOn(c, line);
    });
  }

  async #answerOn(c: net.Socket, line: string): Promise<void> {
    if (this.hold !== null) await this.hold;
    if (this.unreachable !== null) {
      c.destroy();
      return;
    }
    const answer = this.#answer(line);
    if (answer.end === 'hang') return;
    if (answer.end === 'close') {
      c.end(answer.text);
      return;
    }
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const pump = (): void => {
      while (!c.destroyed && c.write(chunk)) this.flooded += chunk.length;
      if (!c.destroyed) c.once('drain', pump);
    };
    pump();
  }

  /** One line of `;`-separated commands, answered as HAProxy would on one connection. */
  #answer(line: string): Answer {
    this.lines.push(line.trim());
    const commands = line.split(';').map((raw) => raw.trim());
    if (commands.some((c) => c.startsWith('show servers state'))) this.reads++;
    if (line.trim() === 'show info') this.infoReads++;
    let out = '';
    let experimental = false;
    for (const cmd of commands) {
      this.received.push(cmd);
      const fault = [...this.faults].find(([prefix]) => cmd.startsWith(prefix))?.[1];
      if (fault === 'hang') return { text: out, end: 'hang' };
      if (fault === 'flood') return { text: out, end: 'flood' };
      if (fault === 'close-mid-reply') return { text: out + this.#reply(cmd, experimental).slice(0, 5), end: 'close' };
      if (cmd === 'experimental-mode on' && this.level === 'admin') experimental = true;
      if (fault === 'permission-denied') out += 'Permission denied\n\n';
      else if (fault === 'unknown-command') out += UNKNOWN.v18;
      else if (fault === 'no-closing-empty-line') out += this.#reply(cmd, experimental).replace(/\n$/, '');
      else if (this.garbled !== null) out += `${this.garbled}\n\n`;
      else out += this.#reply(cmd, experimental);
    }
    return { text: out, end: 'close' };
  }

  /** One command's reply, its closing empty line included (or only the separator's newline, where HAProxy leaves it out). */
  #reply(cmd: string, experimental: boolean): string {
    const override = this.replies.get(cmd);
    if (override !== undefined) return `${override.replace(/\n$/, '')}\n\n`;
    const caps = this.#caps;
    if (cmd === 'show info') return showInfo(this, caps);
    let m = /^show servers state (\S+)$/.exec(cmd);
    if (m !== null) return showServersState(this, m[1] ?? '', caps);
    m = /^show stat (\S+) 6 -1$/.exec(cmd);
    if (m !== null) return showStat(this, m[1] ?? '', caps);
    if (cmd === 'show cli level') return caps.cliLevel ? `${this.level}\n\n` : this.#unknown(caps);
    if (cmd === 'experimental-mode on') {
      if (caps.addServer === null) return this.#unknown(caps);
      return this.level === 'admin' ? '\n' : 'Permission denied\n\n';
    }
    m = /^(set server|add server|del server|enable health) ([^/\s]+)\/(\S+)(?: (.*))?$/.exec(cmd);
    if (m === null) return this.#unknown(caps);
    const [, verb = '', be = '', name = '', rest = ''] = m;
    if ((verb === 'add server' || verb === 'del server') && caps.addServer === null) return this.#unknown(caps);
    if (this.level !== 'admin') return 'Permission denied\n\n';
    const b = this.backends.get(be);
    if (verb === 'add server' || verb === 'del server') {
      if (caps.addServer?.experimental === true && !experimental) return 'This command is restricted to experimental mode only.\n\n';
      // Before 3.0 these fixed messages lack their newline: only the separator's follows.
      const msg = (text: string, unterminated = !caps.addServer?.cookies): string => `${text}\n${unterminated ? '' : '\n'}`;
      if (b === undefined) return msg('No such backend.');
      return verb === 'add server' ? this.#add(b, name, rest, caps, msg) : this.#del(b, name, msg);
    }
    if (b === undefined) return 'No such backend.\n\n';
    const s = b.servers.find((x) => x.name === name);
    if (s === undefined) return 'No such server.\n\n';
    if (verb === 'enable health') return '\n';
    return this.#set(b, s, rest, this.lagging.has(`${be}/${name}`));
  }

  #unknown(caps: Capabilities): string {
    return caps.cliLevel ? UNKNOWN.v2 : UNKNOWN.v18;
  }

  #add(b: FakeBackend, name: string, rest: string, caps: Capabilities, msg: (text: string, unterminated?: boolean) => string): string {
    const m = /^(\S+):(\d+)(?: id (\d+))?( backup)?( check)?$/.exec(rest);
    if (m === null) return msg("'add server' expects <address>:<port>");
    // 2.4 prints add server's replies without their newline; 2.5 and later end them.
    const reply = (text: string): string => msg(text, caps.addServer?.unterminated === true);
    if (m[5] !== undefined && caps.addServer?.check !== true) return reply("'check' option is not accepted for dynamic server");
    if (b.servers.some((s) => s.name === name)) return 'Already exists a server with the same name in backend.\n\n';
    const id = m[3] === undefined ? undefined : Number(m[3]);
    if (id !== undefined && b.servers.some((s, i) => (s.id ?? i + 1) === id)) return `'id' : custom id ${String(id)} already used\n\n`;
    b.servers.push({
      name,
      address: canonicalIP((m[1] ?? '').replace(/^\[|\]$/g, '')),
      port: Number(m[2]),
      admin: ADMIN.maint,
      weight: 1,
      opState: 0,
      backup: m[4] !== undefined,
      sessions: 0,
      checked: m[5] !== undefined,
      ...(id === undefined ? {} : { id }),
    });
    this.added.add(name);
    return reply('New server registered.');
  }

  #del(b: FakeBackend, name: string, msg: (text: string) => string): string {
    const s = b.servers.find((x) => x.name === name);
    if (s === undefined) return 'No such server.\n\n';
    if (stateOf(s) !== 'maint') return msg('Only servers in maintenance mode can be deleted.');
    b.servers = b.servers.filter((x) => x !== s);
    this.added.delete(name);
    return msg('Server deleted.');
  }

  #set(b: FakeBackend, s: FakeServer, rest: string, lagging: boolean): string {
    const [what = '', arg = '', , port = ''] = rest.split(' ');
    if (what === 'addr') {
      const said = `IP changed from '${s.address}' to '${arg}', port changed from '${String(s.port)}' to '${port}' by 'stats socket command'\n\n`;
      if (lagging) return said;
      s.address = canonicalIP(arg); // HAProxy prints addresses the way inet_ntop writes them
      s.port = Number(port);
      s.admin &= ~0x20;
      return said;
    }
    if (what === 'weight') {
      const w = Number(arg);
      if (!Number.isInteger(w) || w < 0 || w > 256) return 'Absolute weight can only be between 0 and 256 inclusive.\n\n';
      if (b.algo === 'static-rr' && w !== 0 && w !== 1)
        return "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n\n";
      if (!lagging) s.weight = w;
      return '\n';
    }
    if (what !== 'state' || !['ready', 'drain', 'maint'].includes(arg))
      return "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n";
    if (lagging) return '\n';
    // `set server state`: ready clears FMAINT+FDRAIN, drain sets FDRAIN, maint sets FMAINT.
    if (arg === 'ready') s.admin &= ~0x09;
    else if (arg === 'drain') s.admin = (s.admin & ~0x01) | 0x08;
    else s.admin = (s.admin & ~0x08) | 0x01;
    s.opState = (s.admin & 0x01) === 0 ? 2 : 0;
    return '\n';
  }
}
