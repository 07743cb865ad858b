import { dynamicCookie } from '../../src/core/cookie.ts';
import { canonicalIP } from '../../src/core/ip.ts';
import type { AdminState } from '../../src/core/types.ts';
import { HaproxyProtocolError, HaproxyUnavailableError } from '../../src/errors.ts';
import { capabilities } from '../../src/haproxy/capabilities.ts';
import type { ServerStateRow, ShowInfo } from '../../src/haproxy/parse.ts';
import { judgeReply } from '../../src/haproxy/replies.ts';
import type { Command } from '../../src/core/commands.ts';
import type { BackendView, CommandResult, HaproxyPort, Snapshot } from '../../src/haproxy/runtime.ts';

export type MemoryServer = {
  name: string;
  address: string;
  port: number;
  admin: AdminState;
  weight: number;
  /** 2 running, 0 down. */
  opState: number;
  checked: boolean;
  backup: boolean;
  sessions: number;
  /** A server id given with `id` (add server); the others are numbered by their place, as a configuration's are. */
  id?: number;
  /** Declared with a name (`slot.invalid:9 init-addr last,127.0.0.1`) instead of an IP literal. */
  fqdn?: string;
  /** Filled by HAProxy's own resolver from this SRV record. */
  srvRecord?: string;
};

export type MemoryBackend = { servers: MemoryServer[]; algo: string; cookieName: string; cookieKey: string | null; mode: string };

/** A slot as `server <name> 127.0.0.1:9 disabled` declares it (`backup`: with the backup keyword). */
export const placeholder = (name: string, backup = false): MemoryServer => ({
  name,
  address: '127.0.0.1',
  port: 9,
  admin: 'maint',
  weight: 1,
  opState: 0,
  checked: false,
  backup,
  sessions: 0,
});

/** Slots as `server-template srv N 127.0.0.1:9 disabled` declares them. */
export const slots = (n: number, prefix = 'srv'): MemoryServer[] =>
  Array.from({ length: n }, (_, i) => placeholder(`${prefix}${String(i + 1)}`));

/**
 * HAProxy in memory, behind the agent's HaproxyPort: backends of servers that `set server`
 * commands change, and knobs for what a real one does on a bad day (unreachable, hung,
 * rejecting, slow to apply, restarted). Decisions are tested against it in milliseconds.
 */
export class MemoryHaproxy implements HaproxyPort {
  readonly label: string;
  version = '2.6.12';
  pid = 100;
  uptimeSec = 10;
  startTimeSec = 1_000;
  stopping = false;
  admin = true;
  /** A socket at level user: `show stat` hides addresses and cookies (and the socket is not admin). */
  levelUser = false;
  readonly backends = new Map<string, MemoryBackend>();
  /** Every command received, probes included. */
  readonly sent: string[] = [];
  /** Set: every call fails with this soft error. */
  unreachable: string | null = null;
  /** Set: every call fails with this reply that cannot be read (something on the socket that is not HAProxy). */
  garbled: string | null = null;
  /** Set: every call waits on this promise first (a socket that accepts and never answers). */
  hang: Promise<void> | null = null;
  /** command -> reply HAProxy gives instead of applying it. */
  readonly replies = new Map<string, string>();
  /** Servers ("be/srv") whose changes do not show up in the next read. */
  readonly lagging = new Set<string>();
  /** Full reads (show info and show servers state), and `show info` alone. */
  reads = 0;
  infoReads = 0;

  constructor(label = 'memory', backends: Record<string, MemoryServer[]> = { be_app: slots(5) }) {
    this.label = label;
    for (const [name, servers] of Object.entries(backends)) {
      this.backends.set(name, { servers, algo: 'roundrobin', cookieName: 'SRVID', cookieKey: 'KEY', mode: 'http' });
    }
  }

  /** Names of the servers added at run time (lost on a restart). */
  readonly added = new Set<string>();

  /** A restart: a new process with every slot back as configured, and no added server. */
  restart(): void {
    this.pid++;
    this.uptimeSec = 0;
    this.startTimeSec++;
    for (const b of this.backends.values()) {
      // Every configured server back as declared: its name and backup flag, in maintenance on its placeholder.
      b.servers = b.servers.filter((s) => !this.added.has(s.name)).map((s) => placeholder(s.name, s.backup));
    }
    this.added.clear();
  }

  #add(be: string, name: string, address: string, port: number, id: number | null, backup: boolean, check: boolean): string {
    const b = this.backends.get(be);
    if (b === undefined) return 'No such backend.';
    if (this.version.startsWith('1.') || this.version.startsWith('2.0')) return 'Unknown command.\n';
    if (b.servers.some((s) => s.name === name)) return 'Already exists a server with the same name in backend.\n';
    if (id !== null && b.servers.some((s, i) => (s.id ?? i + 1) === id)) return `'id' : custom id ${String(id)} already used\n`;
    // 2.4 takes no health check on a dynamic server (2.5 does).
    if (check && this.version.startsWith('2.4.')) return "'check' option is not accepted for dynamic server";
    b.servers.push({
      name,
      address: address.replace(/^\[|\]$/g, ''),
      port,
      admin: 'maint',
      weight: 1,
      opState: 0,
      checked: check,
      backup,
      sessions: 0,
      ...(id === null ? {} : { id }),
    });
    this.added.add(name);
    return 'New server registered.\n';
  }

  #del(be: string, name: string): string {
    const b = this.backends.get(be);
    const s = b?.servers.find((x) => x.name === name);
    if (b === undefined || s === undefined) return 'No such server.';
    if (s.admin !== 'maint') return 'Only servers in maintenance mode can be deleted.';
    b.servers = b.servers.filter((x) => x !== s);
    this.added.delete(name);
    return 'Server deleted.';
  }

  ready(backend = 'be_app'): string[] {
    return (this.backends.get(backend)?.servers ?? []).filter((s) => s.admin === 'ready').map((s) => `${s.address}:${String(s.port)}`);
  }

  sets(): string[] {
    return this.sent.filter((c) => c.startsWith('set server'));
  }

  async observe(names: readonly string[]): Promise<Snapshot> {
    await this.#door();
    this.reads++;
    const backends = new Map<string, BackendView | null>();
    for (const name of names) {
      const b = this.backends.get(name);
      backends.set(name, b === undefined ? null : this.#view(name, b));
    }
    return { info: this.#info(), backends, layout: null };
  }

  async info(): Promise<ShowInfo> {
    await this.#door();
    this.infoReads++;
    return this.#info();
  }

  async sessions(backend: string): Promise<ReadonlyMap<string, number>> {
    await this.#door();
    return new Map((this.backends.get(backend)?.servers ?? []).map((s) => [s.name, s.sessions]));
  }

  async isAdmin(info: ShowInfo): Promise<boolean | null> {
    await this.#door();
    if (info.caps.cliLevel) return this.admin && !this.levelUser;
    return this.levelUser ? false : null;
  }

  async apply(commands: readonly Command[]): Promise<CommandResult[]> {
    await this.#door();
    return commands.map((c) => {
      this.sent.push(c.text);
      const reply = this.admin ? (this.replies.get(c.text) ?? this.#run(c.text)) : 'Permission denied\n';
      return { ...c, reply, verdict: judgeReply(c.step, reply) };
    });
  }

  async #door(): Promise<void> {
    if (this.hang !== null) await this.hang;
    if (this.unreachable !== null) throw new HaproxyUnavailableError(`HAProxy socket ${this.label}: ${this.unreachable}`);
    if (this.garbled !== null) throw new HaproxyProtocolError(`show info: no Version line in ${JSON.stringify(this.garbled)}`, true);
  }

  #info(): ShowInfo {
    const caps = capabilities(this.version);
    if (caps === null) throw new Error(`no capabilities for ${this.version}`);
    return {
      version: this.version,
      caps,
      pid: this.pid,
      processNum: 1,
      uptimeSec: this.uptimeSec,
      startTimeSec: caps.cliLevel ? this.startTimeSec : null,
      stopping: this.stopping,
    };
  }

  #view(name: string, b: MemoryBackend): BackendView {
    const servers: ServerStateRow[] = b.servers.map((s, i) => ({
      backend: name,
      id: s.id ?? i + 1,
      name: s.name,
      address: s.address,
      port: s.port,
      opState: s.opState,
      adminBits: s.admin === 'maint' ? 1 : s.admin === 'drain' ? 8 : 0,
      admin: s.admin,
      weight: s.weight,
      initialWeight: 1,
      checked: s.checked,
      fqdn: s.fqdn ?? null,
      srvRecord: s.srvRecord ?? null,
    }));
    const key = b.cookieKey;
    return {
      servers,
      facts: {
        backup: new Set(b.servers.filter((s) => s.backup).map((s) => s.name)),
        cookies: new Map(
          b.servers.map((s) => [s.name, key === null || s.address === '-' || this.levelUser ? '' : dynamicCookie(key, s.address, s.port)]),
        ),
        algo: b.algo,
        cookieName: b.cookieName,
        mode: b.mode,
        addressesShown: !this.levelUser,
        statAddresses: new Map(b.servers.map((s) => [s.name, this.levelUser ? '' : `${s.address}:${String(s.port)}`])),
      },
    };
  }

  /** Applies one command the way HAProxy 2.6 does; returns its reply. */
  #run(text: string): string {
    const add = /^add server ([^/ ]+)\/(\S+) (\S+):(\d+)(?: id (\d+))?( backup)?( check)?$/.exec(text);
    if (add !== null) {
      const id = add[5] === undefined ? null : Number(add[5]);
      return this.#add(add[1] ?? '', add[2] ?? '', add[3] ?? '', Number(add[4]), id, add[6] !== undefined, add[7] !== undefined);
    }
    const del = /^del server ([^/ ]+)\/(\S+)$/.exec(text);
    if (del !== null) return this.#del(del[1] ?? '', del[2] ?? '');
    if (/^enable health \S+$/.test(text)) return '';
    const m = /^set server ([^/ ]+)\/(\S+) (addr (\S+) port (\d+)|weight (\d+)|state (ready|drain|maint))$/.exec(text);
    if (m === null) return 'Unknown command.\n';
    const [, be = '', name = ''] = m;
    const b = this.backends.get(be);
    if (b === undefined) return 'No such backend.\n';
    if (m[6] !== undefined && b.algo === 'static-rr')
      return "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n";
    const s = b.servers.find((x) => x.name === name);
    if (s === undefined) return 'No such server.\n';
    if (this.lagging.has(`${be}/${name}`))
      return m[4] === undefined
        ? ''
        : `IP changed from '${s.address}' to '${m[4]}', port changed from '${String(s.port)}' to '${m[5] ?? ''}' by 'stats socket command'\n`;
    if (m[4] !== undefined) {
      const reply = `IP changed from '${s.address}' to '${m[4]}', port changed from '${String(s.port)}' to '${m[5] ?? ''}' by 'stats socket command'\n`;
      s.address = canonicalIP(m[4]); // HAProxy prints addresses the way inet_ntop writes them
      s.port = Number(m[5]);
      return reply;
    }
    if (m[6] !== undefined) s.weight = Number(m[6]);
    if (m[7] !== undefined) {
      s.admin = m[7] as AdminState;
      s.opState = s.admin === 'maint' ? 0 : 2;
    }
    return '';
  }
}
