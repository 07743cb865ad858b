import { readFileSync } from 'node:fs';

const DIR = new URL('../fixtures/', import.meta.url);

/** A 2.6.12 capture: the bytes exactly as HAProxy sent them. */
export function haproxy26(name: string): string {
  return readFileSync(new URL(`haproxy-2.6.12/${name}`, DIR), 'utf8');
}

/**
 * A 1.8.30 transcript: the first line is the command (`$ echo '...' | socat ...`), then the
 * reply as socat printed it, then `[socat exit=...]` and sometimes a `[raw repr: ...]` line.
 */
export function haproxy18(name: string): { command: string; reply: string } {
  const lines = readFileSync(new URL(`haproxy-1.8.30/${name}`, DIR), 'utf8').split('\n');
  const command = /^\$ echo '(.*)' \| socat/.exec(lines[0] ?? '')?.[1] ?? '';
  const end = lines.findIndex((l) => l.startsWith('[socat exit='));
  return { command, reply: `${lines.slice(1, end).join('\n')}\n` };
}
