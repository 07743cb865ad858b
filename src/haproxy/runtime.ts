import pRetry from 'p-retry';
import { batchLines, renderSetWeight } from '../core/commands.ts';
import { HaproxyProtocolError, HaproxyUnavailableError } from '../errors.ts';
import { splitReplies } from './framing.ts';
import {
  NO_BACKEND_REPLY,
  parseServersState,
  parseShowInfo,
  parseShowStat,
  stateColumns,
  type ServerStateRow,
  type ShowInfo,
  type StatRow,
} from './parse.ts';
import { judgeReply, type ReplyVerdict } from './replies.ts';
import { describeSocket, exchange, type SocketAddress } from './socket.ts';

/** The `show stat` columns the agent reads. */
const STAT_COLUMNS = ['pxname', 'svname', 'scur', 'bck', 'cookie', 'algo', 'status'];

/** One backend as HAProxy shows it; null when HAProxy has no such backend. */
export type BackendView = Readonly<{
  servers: readonly ServerStateRow[];
  /** show stat rows of the servers, by server name. */
  stats: ReadonlyMap<string, StatRow>;
  /** show stat row "BACKEND": algo, cookie name. */
  summary: StatRow | undefined;
  /** Columns of the `show servers state` dump (19, 20 or 25). */
  columns: number;
}>;

export type Snapshot = Readonly<{
  info: ShowInfo;
  backends: ReadonlyMap<string, BackendView | null>;
}>;

export type CommandResult = Readonly<{ command: string; reply: string; verdict: ReplyVerdict }>;

export type RuntimeOptions = Readonly<{ timeoutMs: number; retries: number }>;

/** The two doors to HAProxy the agent needs: read the state, send commands. */
export interface HaproxyPort {
  readonly label: string;
  read(backends: readonly string[], options?: Readonly<{ stats: boolean }>): Promise<Snapshot>;
  apply(commands: readonly string[]): Promise<CommandResult[]>;
  /** Whether the socket is `level admin`, asked without changing anything. */
  isAdmin(info: ShowInfo, server: Readonly<{ backend: string; name: string; weight: number }>): Promise<boolean>;
}

/** The runtime API over one stats socket (one HAProxy process). */
export class HaproxyRuntime implements HaproxyPort {
  readonly label: string;
  readonly #address: SocketAddress;
  readonly #options: RuntimeOptions;

  constructor(address: SocketAddress, options: RuntimeOptions) {
    this.#address = address;
    this.#options = options;
    this.label = describeSocket(address);
  }

  /**
   * One connection: `show info`, then `show servers state` per backend, and with `stats`
   * `show stat` per backend too. `show stat` is ten times larger than the state dump (about
   * 280 bytes a server) and only says what changes with the configuration (backup flags,
   * cookies, algorithm) or what is only logged (sessions), so callers ask for it rarely.
   */
  async read(backends: readonly string[], options: Readonly<{ stats: boolean }> = { stats: true }): Promise<Snapshot> {
    const per = options.stats ? 2 : 1;
    const commands = [
      'show info',
      ...backends.flatMap((b) => (options.stats ? [`show servers state ${b}`, `show stat ${b} 6 -1`] : [`show servers state ${b}`])),
    ];
    const replies = await this.#send(commands);
    const info = parseShowInfo(replies[0] ?? '');
    const views = new Map<string, BackendView | null>();
    backends.forEach((b, i) => {
      const state = replies[1 + i * per] ?? '';
      if (state.trim() === NO_BACKEND_REPLY) {
        views.set(b, null);
        return;
      }
      const servers = parseServersState(state).filter((r) => r.backend === b);
      const statRows = options.stats ? parseShowStat(replies[2 + i * per] ?? '', STAT_COLUMNS).filter((r) => r['pxname'] === b) : [];
      const stats = new Map(statRows.filter((r) => r['svname'] !== 'BACKEND').map((r) => [r['svname'] ?? '', r]));
      views.set(b, { servers, stats, summary: statRows.find((r) => r['svname'] === 'BACKEND'), columns: stateColumns(state) });
    });
    return { info, backends: views };
  }

  /** Sends commands in lines under 15,000 bytes; one result per command, in order. */
  async apply(commands: readonly string[]): Promise<CommandResult[]> {
    const results: CommandResult[] = [];
    for (const line of batchLines(commands)) {
      const replies = await this.#send(line);
      line.forEach((command, i) => {
        const reply = replies[i] ?? '';
        results.push({ command, reply, verdict: judgeReply(command, reply) });
      });
    }
    return results;
  }

  /**
   * 2.0+ answers `show cli level`. 1.8 does not know it, so there the check is setting a
   * server's weight to the value it already has: admin-only, and a no-op.
   */
  async isAdmin(info: ShowInfo, server: Readonly<{ backend: string; name: string; weight: number }>): Promise<boolean> {
    if (info.release[0] >= 2) {
      const [level] = await this.#send(['show cli level']);
      return level?.trim() === 'admin';
    }
    const [result] = await this.apply([renderSetWeight(server.backend, server.name, server.weight)]);
    return result?.verdict.reason !== 'permission';
  }

  async #send(commands: readonly string[]): Promise<string[]> {
    const line = commands.join(';');
    const raw = await pRetry(() => exchange(this.#address, line, this.#options.timeoutMs), {
      retries: this.#options.retries,
      minTimeout: 100,
      maxTimeout: 1_000,
      shouldRetry: ({ error }) => error instanceof HaproxyUnavailableError,
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
