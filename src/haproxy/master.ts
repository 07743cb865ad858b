import net from 'node:net';
import { describeSocket, type SocketAddress } from '../config/model.ts';

/** The most the master may send on the held connection: its prompt, and nothing else is asked. */
const MAX_BYTES = 4_096;
/** The first retry after a connection ends or fails; each next one waits twice as long, up to `retryMaxMs`. */
const FIRST_RETRY_MS = 50;
/** How long the master has to answer `prompt` once connected. */
const PROMPT_MS = 5_000;
/** A master re-executing refuses connections for a moment: that is no problem to say, for this long after a reload. */
const REEXEC_MS = 5_000;

export type MasterWatchEvents = Readonly<{
  /**
   * The master closed the connection it held: it reloaded (re-executed itself), or stopped;
   * and again when a connection is held after one was lost, as the master may have
   * reloaded again meanwhile.
   */
  reloaded: () => void;
  /** Whether the connection is held (null), or why not: said by the caller once per change. */
  state: (problem: string | null) => void;
}>;

/**
 * One idle connection to HAProxy's master CLI (`haproxy -W -S <path>`). A reload, by
 * SIGUSR2 or the master CLI's `reload`, re-executes the master, which closes every
 * connection to its CLI: the agent hears of a reload under `-W` the moment it happens,
 * although the new worker is handed the stats socket and nothing changes on disk. The
 * master is no worker: a connection held to it keeps no old process alive (one held to a
 * worker's stats socket would). At rest: one connection, no timer, no traffic.
 */
export class MasterWatch {
  readonly label: string;
  readonly #address: SocketAddress;
  readonly #events: MasterWatchEvents;
  readonly #retryMaxMs: number;
  #sock: net.Socket | null = null;
  #timer: NodeJS.Timeout | null = null;
  #retryMs = FIRST_RETRY_MS;
  #closed = false;
  /** When a held connection ended, none being held since; null while one is held, or none ever was. */
  #lostAt: number | null = null;

  constructor(address: SocketAddress, events: MasterWatchEvents, o: Readonly<{ retryMaxMs: number }>) {
    this.#address = address;
    this.#events = events;
    this.#retryMaxMs = o.retryMaxMs;
    this.label = describeSocket(address);
  }

  start(): void {
    if (this.#closed || this.#sock !== null) return;
    const a = this.#address;
    const sock = a.kind === 'unix' ? net.connect(a.path) : net.connect(a.port, a.host);
    sock.unref(); // the agent's lanes keep the process alive, not this
    this.#sock = sock;
    let reply = '';
    let held = false;
    const ended = (problem: string): void => {
      if (this.#sock !== sock) return;
      this.#sock = null;
      clearTimeout(answer);
      sock.destroy();
      if (held) {
        this.#lostAt = Date.now();
        this.#events.reloaded();
      } else if (!this.#closed && (this.#lostAt === null || Date.now() - this.#lostAt >= REEXEC_MS)) this.#events.state(problem);
      this.#retry();
    };
    const answer = setTimeout(() => {
      ended(`${this.label}: no prompt within ${String(PROMPT_MS / 1000)}s of connecting`);
    }, PROMPT_MS);
    answer.unref();
    sock.on('connect', () => {
      sock.write('prompt\n'); // interactive: the master keeps the connection and waits for the next line
    });
    sock.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (!held && /master(\[ReloadFailed\])?> $/.test(reply)) {
        held = true;
        clearTimeout(answer);
        this.#retryMs = FIRST_RETRY_MS;
        this.#events.state(null);
        if (this.#lostAt !== null) {
          this.#lostAt = null;
          this.#events.reloaded();
        }
      } else if (reply.length > MAX_BYTES || (!held && reply.endsWith('> '))) {
        ended(
          `${this.label} answered ${JSON.stringify(reply.slice(0, 60))}: expected the master CLI's prompt "master> " (the socket of haproxy -W -S <path>, not a worker's stats socket)`,
        );
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      ended(`${this.label}: ${err.code ?? err.message}`);
    });
    sock.on('close', () => {
      ended(`${this.label}: closed before it answered as the master CLI`);
    });
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#sock?.destroy();
    this.#sock = null;
  }

  /** The master re-executing, or not there yet: at once and then less and less often, never more than the bound. */
  #retry(): void {
    if (this.#closed || this.#timer !== null) return;
    const wait = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, this.#retryMaxMs);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.start();
    }, wait);
    this.#timer.unref();
  }
}
