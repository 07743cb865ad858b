import pRetry from 'p-retry';
import { batchLines, renderSetWeight } from '../core/commands.ts';
import { describeSocket, type SocketAddress } from '../config/model.ts';
import { HaproxyConfigError, HaproxyProtocolError, HaproxyUnavailableError } from '../errors.ts';
import { factsOfStat, NO_FACTS, type BackendConfigFacts } from './facts.ts';
import { splitReplies } from './framing.ts';
import type { Capabilities } from './capabilities.ts';
import {
  NO_BACKEND_REPLY,
  parseServersState,
  parseShowInfo,
  parseShowStat,
  stateColumns,
  type ServerStateRow,
  type ShowInfo,
} from './parse.ts';
import { judgeReply, type ReplyVerdict } from './replies.ts';
import { exchange } from './socket.ts';
import { SocketPathWatch } from './watch.ts';

/** One backend as HAProxy shows it. */
export type BackendView = Readonly<{ servers: readonly ServerStateRow[]; facts: BackendConfigFacts }>;

export type Snapshot = Readonly<{
  info: ShowInfo;
  /** Backend name -> its view; null when HAProxy has no such backend. */
  backends: ReadonlyMap<string, BackendView | null>;
  /** Set when `show servers state` has another layout than this version prints (read by header anyway). */
  layout: Readonly<{ columns: number; expected: number }> | null;
}>;

/** A command and the backend (agent's id) it is for, so its result can be judged per backend. */
export type BackendCommand = Readonly<{ backend: string; text: string }>;
export type CommandResult = Readonly<{ backend: string; command: string; reply: string; verdict: ReplyVerdict }>;

export type ProbeServer = Readonly<{ backend: string; name: string; weight: number }>;

/**
 * The agent's door to one HAProxy process. Narrow on purpose: read the managed backends,
 * learn whether the socket may write, send commands. The bookkeeping that belongs to the
 * process (its `show stat` facts, its admin level, its layout) stays behind the door.
 */
export interface HaproxyPort {
  readonly label: string;
  /** `show info` and the backends' state, with the configuration facts of this process. Throws soft errors when unreachable. */
  observe(backends: readonly string[]): Promise<Snapshot>;
  /**
   * `show info` alone (under 2 KB): enough to tell that HAProxy did not reload or restart.
   * `once`: one try, no retry (a readiness probe answers now, or says HAProxy does not).
   */
  info(options?: Readonly<{ once?: boolean }>): Promise<ShowInfo>;
  /** Live sessions (`scur`) per server of a backend, read fresh; for the log line of a server leaving. */
  sessions(backend: string): Promise<ReadonlyMap<string, number>>;
  /**
   * Whether the socket is `level admin`, asked once per process. On 1.8 only a write can
   * tell (a weight set to the value it has); with `mayWrite` false that gives null.
   */
  isAdmin(info: ShowInfo, probe: ProbeServer | null, mayWrite: boolean): Promise<boolean | null>;
  /** Sends commands in lines under 15,000 bytes; one result per command, in order. */
  apply(commands: readonly BackendCommand[]): Promise<CommandResult[]>;
  /**
   * Calls `onReplaced` when the socket file is created or replaced (a new HAProxy process
   * bound it), until the returned function is called. A port that cannot tell never calls it.
   */
  watch?(onReplaced: () => void): () => void;
}

export type RuntimeOptions = Readonly<{ timeoutMs: number; retries: number }>;

/** Sent after a reply that may lack its newline, so that a reply that always has one follows it. */
const FRAMING_PROBE = 'show cli level';

/** The runtime API over one stats socket (one HAProxy process at a time). */
export class HaproxyRuntime implements HaproxyPort {
  readonly label: string;
  readonly #address: SocketAddress;
  readonly #options: RuntimeOptions;
  /** `show stat` facts, read once per HAProxy process (pid). */
  #facts: { pid: number; byBackend: Map<string, BackendConfigFacts> } | null = null;
  #admin: { pid: number; admin: boolean } | null = null;
  /** What the HAProxy process last observed can do. */
  #caps: Capabilities | null = null;
  /** The HAProxy process whose `show stat` hid server addresses (a socket below level operator). */
  #addressesHidden: number | null = null;
  /** Watches a UNIX socket's path while someone listens (watch()). */
  #watch: SocketPathWatch | null = null;
  /**
   * The next observe() probably meets a process not read before (none read yet, the socket
   * file replaced, `show info` answered by another pid): it asks that process's `show stat`
   * and level on the same line, so that filling it takes two exchanges, not four.
   */
  #newProcessLikely = true;

  constructor(address: SocketAddress, options: RuntimeOptions) {
    this.#address = address;
    this.#options = options;
    this.label = describeSocket(address);
  }

  /**
   * One connection: `show info`, then `show servers state` per backend. `show stat` is ten
   * times larger than the state dump (about 280 bytes a server) and says only what changes
   * with the configuration, so it is read again only when the process changes, or when the
   * state names a server it did not (one added at run time, perhaps as a backup).
   */
  async observe(backends: readonly string[]): Promise<Snapshot> {
    this.#watch?.ensure(); // a folder that was missing may be there now
    const fresh = this.#newProcessLikely;
    // Asked only where the last process answered `show cli level`.
    const level = fresh && this.#caps?.cliLevel === true ? ['show cli level'] : [];
    const stats = fresh ? backends.map((b) => `show stat ${b} 6 -1`) : [];
    const replies = await this.#send(['show info', ...backends.map((b) => `show servers state ${b}`), ...stats, ...level]);
    this.#newProcessLikely = false;
    if (isMasterCli(replies[0] ?? '')) {
      throw new HaproxyConfigError(
        `HAProxy socket ${this.label} is the master CLI (haproxy -W -S), which answers neither "show info" nor "set server": expected the worker's stats socket ("stats socket <path> level admin" in haproxy.cfg)`,
      );
    }
    const info = parseShowInfo(replies[0] ?? '');
    this.#caps = info.caps;
    const states = backends.map((b, i) => {
      const state = replies[1 + i] ?? '';
      return state.trim() === NO_BACKEND_REPLY ? null : { state, servers: parseServersState(state).filter((r) => r.backend === b) };
    });
    // A server the facts do not know was added since they were read (add server): its backup flag is read again.
    const unknown = states.some((st, i) =>
      st?.servers.some((s) => this.#facts?.byBackend.get(backends[i] ?? '')?.cookies.has(s.name) !== true),
    );
    if (this.#facts?.pid !== info.pid || unknown) {
      // The facts of backends not read now stay while the process does.
      const byBackend = this.#facts?.pid === info.pid ? this.#facts.byBackend : new Map<string, BackendConfigFacts>();
      const read = fresh ? factsOf(backends, replies.slice(1 + backends.length)) : await this.#readFacts(backends);
      for (const [b, facts] of read) byBackend.set(b, facts);
      this.#facts = { pid: info.pid, byBackend };
    }
    const levelReply = level.length === 0 ? undefined : replies[1 + 2 * backends.length];
    if (levelReply !== undefined && info.caps.cliLevel && this.#admin?.pid !== info.pid)
      this.#admin = { pid: info.pid, admin: levelReply.trim() === 'admin' };
    const expected = info.caps.stateColumns;
    let layout: Snapshot['layout'] = null;
    const views = new Map<string, BackendView | null>();
    backends.forEach((b, i) => {
      const st = states[i];
      if (st === null || st === undefined) {
        views.set(b, null);
        return;
      }
      const { state, servers } = st;
      const columns = stateColumns(state);
      if (expected !== null && columns !== expected) layout = { columns, expected };
      const facts = this.#facts?.byBackend.get(b) ?? NO_FACTS;
      // A server with an address whose `show stat` addr is empty: the column is hidden (below level operator).
      const withAddress = servers.filter((s) => s.address !== '-');
      const addressesShown = withAddress.length === 0 || withAddress.some((s) => (facts.statAddresses.get(s.name) ?? '') !== '');
      if (!addressesShown) this.#addressesHidden = info.pid;
      views.set(b, { servers, facts: { ...facts, addressesShown } });
    });
    return { info, backends: views, layout };
  }

  async info(options: Readonly<{ once?: boolean }> = {}): Promise<ShowInfo> {
    const [text = ''] = await this.#send(['show info'], options.once === true ? 0 : this.#options.retries);
    if (isMasterCli(text)) return parseShowInfo(''); // throws; observe() says what it is
    const info = parseShowInfo(text);
    if (info.pid !== this.#facts?.pid) this.#newProcessLikely = true;
    return info;
  }

  async sessions(backend: string): Promise<ReadonlyMap<string, number>> {
    const [text = ''] = await this.#send([`show stat ${backend} 6 -1`]);
    const rows = parseShowStat(text, ['pxname', 'svname', 'scur']).filter((r) => r['pxname'] === backend);
    return new Map(rows.map((r) => [r['svname'] ?? '', Number(r['scur'] ?? 0) || 0]));
  }

  async apply(commands: readonly BackendCommand[]): Promise<CommandResult[]> {
    const results: CommandResult[] = [];
    const backendOf = new Map(commands.map((c) => [c.text, c.backend]));
    const add = this.#caps?.addServer ?? null;
    // 2.4 prints its replies to add server without their newline: one followed by an empty
    // reply (a `set server` that worked) would read as one reply. A command that always
    // answers follows each there, its reply set aside.
    const texts: string[] = [];
    for (const c of commands) {
      texts.push(c.text);
      if (add?.unterminated === true && c.text.startsWith('add server ')) texts.push(FRAMING_PROBE);
    }
    for (const line of batchLines(texts)) {
      const addsOrDeletes = line.some((c) => c.startsWith('add server ') || c.startsWith('del server '));
      // Experimental mode, where add/del server need it, holds for the connection.
      const before = addsOrDeletes && add?.experimental === true ? ['experimental-mode on'] : [];
      // Before 3.0 "Server deleted." lacks its newline (and on 2.4 add server's replies): last on a line, it could not be framed.
      const last = line.at(-1) ?? '';
      const after = last.startsWith('del server ') || (add?.unterminated === true && last.startsWith('add server ')) ? [FRAMING_PROBE] : [];
      const replies = await this.#send([...before, ...line, ...after]);
      replies.slice(0, before.length).forEach((reply) => {
        if (reply.trim() !== '')
          throw new HaproxyProtocolError(`HAProxy socket ${this.label}: experimental-mode on answered ${JSON.stringify(reply)}`, true);
      });
      line.forEach((command, i) => {
        if (command === FRAMING_PROBE) return;
        const reply = replies[before.length + i] ?? '';
        results.push({ backend: backendOf.get(command) ?? '', command, reply, verdict: judgeReply(command, reply) });
      });
    }
    return results;
  }

  /** 2.0+ answers `show cli level`; 1.8 does not know it, so there a no-op weight set tells. */
  async isAdmin(info: ShowInfo, probe: ProbeServer | null, mayWrite: boolean): Promise<boolean | null> {
    if (this.#admin?.pid === info.pid) return this.#admin.admin;
    let admin: boolean | null;
    if (info.caps.cliLevel) {
      const [level] = await this.#send(['show cli level']);
      admin = level?.trim() === 'admin';
    } else if (this.#addressesHidden === info.pid) {
      admin = false; // 1.8 at level user: show stat hides addresses, a read tells what only a write could
    } else if (probe === null || !mayWrite) {
      admin = null;
    } else {
      const command = renderSetWeight(probe.backend, probe.name, probe.weight);
      const [result] = await this.apply([{ backend: probe.backend, text: command }]);
      admin = result?.verdict.reason !== 'permission';
    }
    if (admin !== null) this.#admin = { pid: info.pid, admin };
    return admin;
  }

  async #readFacts(backends: readonly string[]): Promise<Map<string, BackendConfigFacts>> {
    return factsOf(backends, await this.#send(backends.map((b) => `show stat ${b} 6 -1`)));
  }

  watch(onReplaced: () => void): () => void {
    if (this.#address.kind !== 'unix') return () => undefined;
    const w = new SocketPathWatch(this.#address.path, () => {
      this.#newProcessLikely = true;
      onReplaced();
    });
    this.#watch?.close();
    this.#watch = w;
    w.ensure();
    return () => {
      w.close();
      if (this.#watch === w) this.#watch = null;
    };
  }

  async #send(commands: readonly string[], retries = this.#options.retries): Promise<string[]> {
    const line = commands.join(';');
    const raw = await pRetry(() => exchange(this.#address, line, this.#options.timeoutMs, replyBound(commands)), {
      retries,
      minTimeout: 100,
      maxTimeout: 1_000,
      // Again only what is safe to run twice: `add server` may have been run before the
      // connection failed, and the next run reads HAProxy's state before deciding again.
      shouldRetry: ({ error }) => error instanceof HaproxyUnavailableError && (!error.sent || commands.every(isRepeatable)),
    });
    const { replies, complete } = splitReplies(raw, commands.length);
    if (!complete) {
      // A reply without its closing empty line, or a connection closed mid-reply: which
      // reply belongs to which command is unknown, so none of them is trusted.
      throw new HaproxyProtocolError(
        `HAProxy socket ${this.label}: ${String(replies.length)} replies for ${String(commands.length)} commands (reply framing lost; ${raw.length === 0 ? 'connection closed without an answer' : 'a reply lacked its closing empty line'})`,
        true,
      );
    }
    return replies;
  }
}

/**
 * The most a reply to `commands` may weigh: a server line of `show servers state` is under
 * 300 bytes and of `show stat` under 1 KiB, so a backend of 10,000 servers fits with room
 * to spare; a `set server` reply is one line. A peer sending more is not HAProxy answering
 * what was asked (300 MB were once read whole).
 */
export function replyBound(commands: readonly string[]): number {
  let bytes = 0;
  for (const c of commands) {
    if (c.startsWith('show servers state')) bytes += 4 << 20;
    else if (c.startsWith('show stat')) bytes += 16 << 20;
    else if (c === 'show info') bytes += 64 << 10;
    else bytes += 4 << 10;
  }
  return bytes;
}

/** Each backend's facts from the replies to `show stat <backend> 6 -1`, in the same order. */
function factsOf(backends: readonly string[], replies: readonly string[]): Map<string, BackendConfigFacts> {
  const out = new Map<string, BackendConfigFacts>();
  backends.forEach((b, i) => {
    out.set(b, factsOfStat(replies[i] ?? '', b));
  });
  return out;
}

/** Commands that change nothing when run twice: reads, `set server`, `enable health`, the level and mode switches. */
const isRepeatable = (command: string): boolean => !command.startsWith('add server ') && !command.startsWith('del server ');

/** The master CLI's answer to a worker command: "Unknown command", and a list naming `show proc`. */
function isMasterCli(reply: string): boolean {
  return reply.startsWith('Unknown command') && /^\s*show proc\b/m.test(reply);
}
