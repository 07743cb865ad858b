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
export function splitReplies(raw: string, commands: number): { replies: string[]; complete: boolean } {
  const lines = raw.split('\n');
  if (lines.at(-1) === '') lines.pop(); // what follows the last "\n" is not a line
  const replies: string[] = [];
  let current: string[] = [];
  for (const line of lines) {
    if (line === '') {
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
