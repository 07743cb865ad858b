import { describeRecord } from '../config/model.ts';
import { batchLines, command, renderStep, type Command } from '../core/commands.ts';
import { dynamicCookie } from '../core/cookie.ts';
import { countOf } from '../core/findings.ts';
import { printableText } from '../core/names.ts';
import type { Step } from '../core/steps.ts';
import { endpointKey } from '../core/types.ts';
import type { CommandResult, HaproxyPort } from '../haproxy/runtime.ts';
import type { BackendInForce, Work } from './decide.ts';

/** What a batch the halt cut short left on one socket: commands never written, and those of a line that got no answer. */
export type Unsent = Readonly<{ socket: string; notSent: number; unanswered: number; of: number }>;

/**
 * Who acts on a socket lane's decisions. The lane decides the same way whoever acts:
 * `SocketWriter` sends the commands, `DryRunWriter` prints them and sends nothing.
 */
export interface Writer {
  /**
   * Whether the socket is `level admin` where only a write tells (1.8): sends `probe`, a
   * weight set to what it is; null when this writer sends nothing.
   */
  probeAdmin(port: HaproxyPort, probe: Step): Promise<boolean | null>;
  /** Acts on one socket's work; the results of what was sent, or null when nothing was. */
  act(port: HaproxyPort, work: readonly Work[], backends: readonly BackendInForce[]): Promise<CommandResult[] | null>;
  /** HAProxy could not be read: there is nothing to decide on. */
  unreachable(port: HaproxyPort, backends: readonly BackendInForce[]): void;
  /** Once no batch is being sent: what the batches cut short by the halt left, per socket. */
  settled(): Promise<readonly Unsent[]>;
}

/**
 * Sends the commands a line at a time (the lines of at most 15,000 bytes the port sends),
 * so that a halt (a second SIGTERM) stops a batch between two lines: a line written is
 * HAProxy's to run, so the one in flight gets its answer, and what was not sent is counted
 * for the exit to say. The next start plans from what HAProxy holds and sends the rest.
 */
export class SocketWriter implements Writer {
  readonly #halt: AbortSignal | null;
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #unsent: Unsent[] = [];

  constructor(halt: AbortSignal | null = null) {
    this.#halt = halt;
  }

  async probeAdmin(port: HaproxyPort, probe: Step): Promise<boolean> {
    const [result] = await port.apply([command(probe.backend, probe)]);
    return result?.verdict.reason !== 'permission';
  }

  async act(port: HaproxyPort, work: readonly Work[]): Promise<CommandResult[]> {
    // Every step rendered, and so checked, before the first is sent.
    const commands = work.flatMap((w) => w.steps.map((step) => command(w.spec.id, step)));
    if (commands.length === 0) return [];
    const sending = this.#send(port, commands);
    this.#inFlight.add(sending);
    try {
      return await sending;
    } finally {
      this.#inFlight.delete(sending);
    }
  }

  async #send(port: HaproxyPort, commands: readonly Command[]): Promise<CommandResult[]> {
    const results: CommandResult[] = [];
    let sent = 0;
    for (const line of batchLines(commands)) {
      if (this.#halt?.aborted === true) {
        this.#unsent.push({ socket: port.label, notSent: commands.length - sent, unanswered: 0, of: commands.length });
        break;
      }
      const answered = await port.apply(line).catch((err: unknown) => {
        if (this.#halt?.aborted === true) {
          const notSent = commands.length - sent - line.length;
          this.#unsent.push({ socket: port.label, notSent, unanswered: line.length, of: commands.length });
        }
        throw err;
      });
      for (const r of answered) results.push(r);
      sent += line.length;
    }
    return results;
  }

  async settled(): Promise<readonly Unsent[]> {
    while (this.#inFlight.size > 0) await Promise.allSettled(Array.from(this.#inFlight));
    return this.#unsent;
  }

  unreachable(): void {
    // Nothing to do: the lane reports it, the next run tries again.
  }
}

/**
 * `--dry-run`: prints, per socket, what DNS gave, the exact commands, and each server's
 * endpoint (and dynamic cookie with --cookie-key) once applied. Prints a block again only
 * when it changed. Without a readable HAProxy it prints the endpoints DNS gave.
 */
export class DryRunWriter implements Writer {
  readonly #out: (line: string) => void;
  readonly #cookieKey: string | null;
  readonly #printed = new Map<string, string>();

  constructor(out: (line: string) => void, cookieKey: string | null) {
    this.#out = out;
    this.#cookieKey = cookieKey;
  }

  probeAdmin(): Promise<null> {
    return Promise.resolve(null); // not even the no-op weight: nothing is ever sent
  }

  act(port: HaproxyPort, work: readonly Work[], backends: readonly BackendInForce[]): Promise<null> {
    const lines: string[] = [];
    for (const w of work) {
      const b = backends.find((x) => x.spec.id === w.spec.id);
      if (b !== undefined) for (const line of endpointLines(b)) lines.push(line);
      for (const step of w.steps) lines.push(renderStep(step));
      for (const [server, e] of [...w.plan.assignment].sort((x, y) => x[0].localeCompare(y[0], 'en', { numeric: true }))) {
        const cookie = this.#cookieKey === null ? '' : ` cookie ${dynamicCookie(this.#cookieKey, e.address, e.port)}`;
        lines.push(`# ${w.spec.backend}/${server} ${endpointKey(e)} ready${cookie}`);
      }
    }
    this.#print(port.label, lines);
    return Promise.resolve(null);
  }

  unreachable(_port: HaproxyPort, backends: readonly BackendInForce[]): void {
    this.#print('endpoints', backends.flatMap(endpointLines));
  }

  settled(): Promise<readonly Unsent[]> {
    return Promise.resolve([]); // nothing is ever sent
  }

  #print(key: string, raw: readonly string[]): void {
    // The output is a contract (a `#` comment or a command the agent would send): a comment
    // keeps only printable ASCII, whatever reached it.
    const lines = raw.map((l) => (l.startsWith('#') ? printableText(l) : l));
    const text = lines.join('\n');
    if (this.#printed.get(key) === text) return;
    this.#printed.set(key, text);
    for (const l of lines) this.#out(l);
  }
}

function endpointLines(b: BackendInForce): string[] {
  const record = describeRecord(b.spec.record);
  if (b.endpoints === null) return [`# ${b.spec.id} <- ${record}: no answer`];
  const out = [`# ${b.spec.id} <- ${record}: ${countOf(b.endpoints.length, 'endpoint')}`];
  for (const e of b.endpoints) {
    out.push(`#   ${endpointKey(e)} weight ${String(e.weight)} priority ${String(e.priority)} ttl ${String(e.ttl)} target ${e.target}`);
  }
  return out;
}
