/**
 * What the agent puts on a line to HAProxy's runtime API, as data: the reads, and the
 * commands of steps with the framing the version needs around them. Pure: the runtime sends
 * the lines and reads each reply by what its request is for, never by its text.
 */
import { batchLines, type Command } from '../core/commands.ts';
import { isRepeatable } from '../core/steps.ts';
import type { AddServer } from './capabilities.ts';

/** One command on a line: its text, the most its reply may weigh, and whether it may be sent again after a cut. */
export type Request = Readonly<{ text: string; maxBytes: number; repeatable: boolean }>;

/**
 * The reads, each with the most its reply may weigh: a server line of `show servers state`
 * is under 300 bytes and of `show stat` under 1 KiB, so a backend of 10,000 servers fits with
 * room to spare; any other reply is a line or two. A peer sending more is not HAProxy
 * answering what was asked (300 MB were once read whole).
 */
export const READS = {
  info: { text: 'show info', maxBytes: 64 << 10, repeatable: true },
  level: { text: 'show cli level', maxBytes: 4 << 10, repeatable: true },
  state: (backend: string): Request => ({ text: `show servers state ${backend}`, maxBytes: 4 << 20, repeatable: true }),
  stat: (backend: string): Request => ({ text: `show stat ${backend} 6 -1`, maxBytes: 16 << 20, repeatable: true }),
} as const;

/** A request on a line of steps: a step's command, or framing around them, whose reply is set aside. */
export type LineRequest = Request &
  Readonly<
    | { role: 'step'; command: Command }
    /** Before add/del server where they need it; holds for the connection, answers nothing. */
    | { role: 'experimental' }
    /** After a reply that may lack its newline, so that a reply that always has one follows it. */
    | { role: 'probe' }
  >;

const stepRequest = (command: Command): LineRequest => ({
  role: 'step',
  command,
  text: command.text,
  maxBytes: 4 << 10,
  repeatable: isRepeatable(command.step),
});
const EXPERIMENTAL: LineRequest = { role: 'experimental', text: 'experimental-mode on', maxBytes: 4 << 10, repeatable: true };
const PROBE: LineRequest = { role: 'probe', ...READS.level };

/**
 * The commands of steps -> the lines that send them (under MAX_LINE_BYTES each), framed for
 * a HAProxy whose `add server` is `add` (null: none). On 2.4 `add server` replies lack their
 * newline: one followed by an empty reply (a `set server` that worked) would read as one
 * reply, so a probe follows each. Before 3.0 "Server deleted." lacks it too: a `del server`
 * never ends a line (on 3.0+ too: one more reply, the same framing on every version).
 */
export function stepLines(commands: readonly Command[], add: AddServer | null): LineRequest[][] {
  const requests: LineRequest[] = [];
  for (const c of commands) {
    requests.push(stepRequest(c));
    if (add?.unterminated === true && c.step.kind === 'add-server') requests.push(PROBE);
  }
  return batchLines(requests).map((line) => {
    const kindOf = (r: LineRequest | undefined): string | null => (r?.role === 'step' ? r.command.step.kind : null);
    const addsOrDeletes = line.some((r) => kindOf(r) === 'add-server' || kindOf(r) === 'del-server');
    const last = kindOf(line.at(-1));
    return [
      ...(addsOrDeletes && add?.experimental === true ? [EXPERIMENTAL] : []),
      ...line,
      ...(last === 'del-server' || (add?.unterminated === true && last === 'add-server') ? [PROBE] : []),
    ];
  });
}
