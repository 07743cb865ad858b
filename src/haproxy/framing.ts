/**
 * Splits what HAProxy wrote on one non-interactive connection (read until it closed) into
 * one reply per command. Each reply ends with an empty line and no command prints an empty
 * line, so the k-th empty line ends the k-th reply (management.txt, "Unix Socket commands").
 * An empty reply is a lone "\n".
 *
 * Before 3.0 a few messages lack their final newline, and a line longer than tune.bufsize
 * is dropped with no answer at all: both show up as fewer replies than commands, or a last
 * reply without its empty line, which is `complete: false`; the caller must then not trust
 * any reply of that line.
 */
/**
 * Messages HAProxy prints without their final newline, so that only the command separator's
 * "\n" follows them and the next reply starts on the next line (runtime API reference,
 * section 1.2): 1.8's weight errors, and 2.4-2.9's fixed `add/del server` messages.
 */
const UNTERMINATED: readonly string[] = [
  'Empty weight string empty or preceded by garbage',
  'Trailing garbage in weight string',
  "Require 'backend/server'.",
  'No such backend.',
  'Backend must use a dynamic load balancing to support dynamic servers.',
  'Only servers in maintenance mode can be deleted.',
  'Server deleted.',
  'New server registered.', // 2.4 only
];

/** 2.4's refusal of a keyword on `add server` (`check` among them), also without its newline. */
const UNTERMINATED_PATTERN = /^'[^']*' option is not accepted for dynamic server$/;

const isUnterminated = (line: string): boolean => UNTERMINATED.includes(line) || UNTERMINATED_PATTERN.test(line);

export function splitReplies(raw: string, commands: number): { replies: string[]; complete: boolean } {
  const lines = raw.split('\n');
  if (lines.at(-1) === '') lines.pop(); // what follows the last "\n" is not a line
  const replies: string[] = [];
  let current: string[] = [];
  for (const [i, line] of lines.entries()) {
    // Only a reply's first line can be such a message: a dump's other lines are not tested.
    if (current.length === 0 && i + 1 < lines.length && lines[i + 1] !== '' && isUnterminated(line)) {
      // A message known to lack its newline (the same text ends with one elsewhere, e.g.
      // "No such backend." from `set server`): it ends here when a reply follows at once.
      replies.push(line);
    } else if (line === '') {
      replies.push(current.join('\n'));
      current = [];
    } else {
      current.push(line);
    }
  }
  // A last reply without its empty line is either a pre-3.0 message lacking its newline
  // (`del server` on 2.6, which the agent never sends) or a connection closed mid-reply:
  // the two cannot be told apart, so it is not trusted.
  const cut = current.length > 0;
  if (cut) replies.push(current.join('\n'));
  return { replies, complete: !cut && replies.length === commands };
}
