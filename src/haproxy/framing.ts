/**
 * Splits what HAProxy wrote on one non-interactive connection (read until it closed) into
 * one reply per command. Each reply ends with an empty line and no command prints an empty
 * line, so the k-th empty line ends the k-th reply (management.txt, "Unix Socket commands").
 * An empty reply is a lone "\n".
 *
 * Before 3.0 a few messages lack their final newline, and a line longer than tune.bufsize
 * is dropped with no answer at all: both show up as fewer replies than commands, which is
 * `complete: false`; the caller must then not trust any reply of that line.
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
  // EOF also ends a reply: the last one may lack its empty line (seen on `del server`, 2.6).
  if (current.length > 0) replies.push(current.join('\n'));
  return { replies, complete: replies.length === commands };
}
