import pRetry from 'p-retry';
import type { Command } from '../core/commands.ts';
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
  statePrint,
  type ServerStateRow,
  type ShowInfo,
} from './parse.ts';
import { judgeReply, type ReplyVerdict } from './replies.ts';
import { READS, stepLines, type Request } from './requests.ts';
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
  /** What the servers' state says, as one text (Reading.print): two reads with the same print would be planned the same. */
  print: string;
}>;

/** One read of HAProxy (HaproxyPort.read): `show info`, the servers' state printed, the snapshot parsed on demand. */
export type Reading = Readonly<{ info: ShowInfo; print: string; snapshot: () => Promise<Snapshot> }>;

/** Each backend's name and state print, and the layout when it is not the version's. */
function readingPrint(info: ShowInfo, backends: readonly string[], replies: readonly string[]): string {
  const expected = info.caps.stateColumns;
  const parts = backends.map((b, i) => {
    const state = replies[1 + i] ?? '';
    const columns = state.trim() === NO_BACKEND_REPLY ? null : stateColumns(state);
    const layout = expected !== null && columns !== null && columns !== expected ? ` ${String(columns)}/${String(expected)}` : '';
    return `${b}${layout}:${statePrint(state)}`;
  });
  return parts.join('\n');
}

/** A step's command as HAProxy answered it, judged by the step's kind. */
export type CommandResult = Command & Readonly<{ reply: string; verdict: ReplyVerdict }>;

/**
 * The agent's door to one HAProxy process. Narrow on purpose: read the managed backends,
 * learn whether the socket may write, send commands. The bookkeeping that belongs to the
 * process (its `show stat` facts, its admin level, its layout) stays behind the door.
 */
export interface HaproxyPort {
  readonly label: string;
  /** `show info` and the backends' state, with the configuration facts of this process. Throws soft errors when unreachable. */
  observe(backends: readonly string[]): Promise<Snapshot>;
  /** The same read as observe(), its state printed first and parsed only when snapshot() is called (a drift check at rest). */
  read(backends: readonly string[]): Promise<Reading>;
  /**
   * `show info` alone (under 2 KB): enough to tell that HAProxy did not reload or restart.
   * `once`: one try, no retry (a readiness probe answers now, or says HAProxy does not).
   */
  info(options?: Readonly<{ once?: boolean }>): Promise<ShowInfo>;
  /** Live sessions (`scur`) per server of a backend, read fresh; for the log line of a server leaving. */
  sessions(backend: string): Promise<ReadonlyMap<string, number>>;
  /**
   * Whether the socket is `level admin`, where a read tells, asked once per process; null
   * where only a write can tell (1.8: a weight set to the value it has, see Writer.probeAdmin).
   */
  isAdmin(info: ShowInfo): Promise<boolean | null>;
  /** Sends the commands of steps in lines under 15,000 bytes; one result per command, in order. */
  apply(commands: readonly Command[]): Promise<CommandResult[]>;
  /**
   * Calls `onReplaced` when the socket file is created or replaced (a new HAProxy process
   * bound it), until the returned function is called. A port that cannot tell never calls it.
   */
  watch?(onReplaced: () => void): () => void;
}

/** One exchange with HAProxy: `line` written, the reply read until HAProxy closed, within `timeoutMs`, at most `maxBytes`. */
export type Exchange = (line: string, timeoutMs: number, maxBytes: number) => Promise<string>;

export type RuntimeOptions = Readonly<{
  timeoutMs: number;
  retries: number;
  /** How a line reaches HAProxy: over the socket (socket.ts) unless given; one given has no socket file to watch. */
  exchange?: Exchange;
}>;

/** The runtime API over one stats socket (one HAProxy process at a time). */
export class HaproxyRuntime implements HaproxyPort {
  readonly label: string;
  readonly #address: SocketAddress;
  readonly #options: RuntimeOptions;
  readonly #exchange: Exchange;
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
    this.#exchange = options.exchange ?? ((line, timeoutMs, maxBytes) => exchange(address, line, timeoutMs, maxBytes));
    this.label = describeSocket(address);
  }

  /**
   * One connection: `show info`, then `show servers state` per backend. `show stat` is ten
   * times larger than the state dump (about 280 bytes a server) and says only what changes
   * with the configuration, so it is read again only when the process changes, or when the
   * state names a server it did not (one added at run time, perhaps as a backup).
   */
  async observe(backends: readonly string[]): Promise<Snapshot> {
    return (await this.read(backends)).snapshot();
  }

  /**
   * What observe() reads, in one connection, with the servers' state printed (statePrint)
   * before any row is parsed: a drift check at rest that finds the print of the last full
   * read needs no more. snapshot() parses it (once), as observe() does.
   */
  async read(backends: readonly string[]): Promise<Reading> {
    this.#watch?.ensure(); // a folder that was missing may be there now
    const fresh = this.#newProcessLikely;
    // Asked only where the last process answered `show cli level`.
    const level = fresh && this.#caps?.cliLevel === true ? [READS.level] : [];
    const stats = fresh ? backends.map(READS.stat) : [];
    const replies = await this.#send([READS.info, ...backends.map(READS.state), ...stats, ...level]);
    this.#newProcessLikely = false;
    if (isMasterCli(replies[0] ?? '')) {
      throw new HaproxyConfigError(
        `HAProxy socket ${this.label} is the master CLI (haproxy -W -S), which answers neither "show info" nor "set server": expected the worker's stats socket ("stats socket <path> level admin" in haproxy.cfg)`,
      );
    }
    const info = parseShowInfo(replies[0] ?? '');
    const print = readingPrint(info, backends, replies);
    let parsed: Promise<Snapshot> | null = null;
    return { info, print, snapshot: () => (parsed ??= this.#snapshot(backends, replies, info, print, fresh, level.length > 0)) };
  }

  async #snapshot(
    backends: readonly string[],
    replies: readonly string[],
    info: ShowInfo,
    print: string,
    fresh: boolean,
    levelAsked: boolean,
  ): Promise<Snapshot> {
    this.#caps = info.caps;
    const states = backends.map((b, i) => {
      const state = replies[1 + i] ?? '';
      return state.trim() === NO_BACKEND_REPLY ? null : { state, servers: parseServersState(state).filter((r) => r.backend === b) };
    });
    // The facts name other servers than the state: one was added since they were read (add
    // server) or deleted (del server, and its name may come back on another server, a backup
    // this time): the backup flags are read again.
    const changed = states.some((st, i) => {
      const known = this.#facts?.byBackend.get(backends[i] ?? '')?.cookies;
      if (st === null) return false;
      return st.servers.some((s) => known?.has(s.name) !== true) || (known !== undefined && known.size !== st.servers.length);
    });
    if (this.#facts?.pid !== info.pid || changed) {
      // The facts of backends not read now stay while the process does.
      const byBackend = this.#facts?.pid === info.pid ? this.#facts.byBackend : new Map<string, BackendConfigFacts>();
      const read = fresh ? factsOf(backends, replies.slice(1 + backends.length)) : await this.#readFacts(backends);
      for (const [b, facts] of read) byBackend.set(b, facts);
      this.#facts = { pid: info.pid, byBackend };
    }
    const levelReply = levelAsked ? replies[1 + 2 * backends.length] : undefined;
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
    return { info, backends: views, layout, print };
  }

  async info(options: Readonly<{ once?: boolean }> = {}): Promise<ShowInfo> {
    const [text = ''] = await this.#send([READS.info], options.once === true ? 0 : this.#options.retries);
    if (isMasterCli(text)) return parseShowInfo(''); // throws; observe() says what it is
    const info = parseShowInfo(text);
    if (info.pid !== this.#facts?.pid) this.#newProcessLikely = true;
    return info;
  }

  async sessions(backend: string): Promise<ReadonlyMap<string, number>> {
    const [text = ''] = await this.#send([READS.stat(backend)]);
    const rows = parseShowStat(text, ['pxname', 'svname', 'scur']).filter((r) => r['pxname'] === backend);
    return new Map(rows.map((r) => [r['svname'] ?? '', Number(r['scur'] ?? 0) || 0]));
  }

  async apply(commands: readonly Command[]): Promise<CommandResult[]> {
    const results: CommandResult[] = [];
    for (const line of stepLines(commands, this.#caps?.addServer ?? null)) {
      const replies = await this.#send(line);
      line.forEach((request, i) => {
        const reply = replies[i] ?? '';
        if (request.role === 'step') results.push({ ...request.command, reply, verdict: judgeReply(request.command.step, reply) });
        else if (request.role === 'experimental' && reply.trim() !== '')
          throw new HaproxyProtocolError(`HAProxy socket ${this.label}: ${request.text} answered ${JSON.stringify(reply)}`, true);
      });
    }
    return results;
  }

  /** 2.0+ answers `show cli level`; 1.8 does not know it, and tells only at level user (show stat hides addresses). */
  async isAdmin(info: ShowInfo): Promise<boolean | null> {
    if (this.#admin?.pid === info.pid) return this.#admin.admin;
    let admin: boolean | null = null;
    if (info.caps.cliLevel) {
      const [level] = await this.#send([READS.level]);
      admin = level?.trim() === 'admin';
    } else if (this.#addressesHidden === info.pid) {
      admin = false; // 1.8 at level user: a read tells what only a write could
    }
    if (admin !== null) this.#admin = { pid: info.pid, admin };
    return admin;
  }

  async #readFacts(backends: readonly string[]): Promise<Map<string, BackendConfigFacts>> {
    return factsOf(backends, await this.#send(backends.map(READS.stat)));
  }

  watch(onReplaced: () => void): () => void {
    if (this.#address.kind !== 'unix' || this.#options.exchange !== undefined) return () => undefined;
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

  async #send(requests: readonly Request[], retries = this.#options.retries): Promise<string[]> {
    const line = requests.map((r) => r.text).join(';');
    const maxBytes = requests.reduce((sum, r) => sum + r.maxBytes, 0);
    const raw = await pRetry(() => this.#exchange(line, this.#options.timeoutMs, maxBytes), {
      retries,
      minTimeout: 100,
      maxTimeout: 1_000,
      // Again only what is safe to run twice: `add server` may have been run before the
      // connection failed, and the next run reads HAProxy's state before deciding again.
      shouldRetry: ({ error }) => error instanceof HaproxyUnavailableError && (!error.sent || requests.every((r) => r.repeatable)),
    });
    const { replies, complete } = splitReplies(raw, requests.length);
    if (!complete) {
      // A reply without its closing empty line, or a connection closed mid-reply: which
      // reply belongs to which command is unknown, so none of them is trusted.
      throw new HaproxyProtocolError(
        `HAProxy socket ${this.label}: ${String(replies.length)} replies for ${String(requests.length)} commands (reply framing lost; ${raw.length === 0 ? 'connection closed without an answer' : 'a reply lacked its closing empty line'})`,
        true,
      );
    }
    return replies;
  }
}

/** Each backend's facts from the replies to `show stat <backend> 6 -1`, in the same order. */
function factsOf(backends: readonly string[], replies: readonly string[]): Map<string, BackendConfigFacts> {
  const out = new Map<string, BackendConfigFacts>();
  backends.forEach((b, i) => {
    out.set(b, factsOfStat(replies[i] ?? '', b));
  });
  return out;
}

/** The master CLI's answer to a worker command: "Unknown command", and a list naming `show proc`. */
function isMasterCli(reply: string): boolean {
  return reply.startsWith('Unknown command') && /^\s*show proc\b/m.test(reply);
}
