import { isIPAddress } from './ip.ts';
import type { Change } from './types.ts';

/**
 * HAProxy names are letters, digits and `-_.:` (cfgparse's invalid_char()). Anything else,
 * and above all `;` (the command separator), `\` and a newline, would change what the
 * runtime API parses, so it is refused before a command is built.
 */
const NAME = /^[A-Za-z0-9_.:-]+$/;

/** A command that would not be what it says; a bug or a bad name, never retried. */
export class UnsafeCommandError extends TypeError {
  readonly code = 'AGENT_UNSAFE_COMMAND';
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeCommandError';
  }
}

export function isSafeName(s: string): boolean {
  return NAME.test(s);
}

function checkName(kind: string, s: string): string {
  if (!NAME.test(s)) {
    throw new UnsafeCommandError(`refusing ${kind} name ${JSON.stringify(s)}: expected letters, digits, '-', '_', '.' or ':'`);
  }
  return s;
}

/**
 * One change -> the `set server` commands it needs (management.txt, "set server"), in the
 * order HAProxy must see them: address before weight before state, so a slot never turns
 * ready on its old address. Only what differs is sent, unless the change is forced.
 */
export function renderChange(backend: string, change: Change): string[] {
  const target = `${checkName('backend', backend)}/${checkName('server', change.server)}`;
  const { from, to, force } = change;
  const out: string[] = [];
  if (force || from.address !== to.address || from.port !== to.port) {
    if (!isIPAddress(to.address))
      throw new UnsafeCommandError(`refusing address ${JSON.stringify(to.address)}: expected an IPv4 or IPv6 literal`);
    if (!Number.isInteger(to.port) || to.port < 1 || to.port > 65535) {
      throw new UnsafeCommandError(`refusing port ${String(to.port)}: expected 1..65535`);
    }
    out.push(`set server ${target} addr ${to.address} port ${String(to.port)}`);
  }
  if (to.weight !== null && (force || from.weight !== to.weight)) out.push(renderSetWeight(backend, change.server, to.weight));
  if (force || from.admin !== to.admin) out.push(`set server ${target} state ${to.admin}`);
  return out;
}

/** `set server <b>/<s> weight <w>`; also how the agent checks `level admin` without changing anything. */
export function renderSetWeight(backend: string, server: string, weight: number): string {
  if (!Number.isInteger(weight) || weight < 0 || weight > 256) {
    throw new UnsafeCommandError(`refusing weight ${String(weight)}: expected 0..256`);
  }
  return `set server ${checkName('backend', backend)}/${checkName('server', server)} weight ${String(weight)}`;
}

/**
 * HAProxy before 3.0 reads one request line into a tune.bufsize buffer (16384 bytes) and
 * closes the connection without a word when the line is longer; keep a margin for
 * maxrewrite. Commands never contain ';' (see NAME), so joining them is safe.
 */
export const MAX_LINE_BYTES = 15_000;

const utf8 = new TextEncoder();

/** Commands -> request lines of `;`-joined commands, each under `maxBytes` with its newline. */
export function batchLines(commands: readonly string[], maxBytes = MAX_LINE_BYTES): string[][] {
  const lines: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const cmd of commands) {
    const bytes = utf8.encode(cmd).length + 1; // ';' or the final '\n'
    if (bytes > maxBytes) throw new UnsafeCommandError(`command longer than ${String(maxBytes)} bytes: ${cmd.slice(0, 80)}...`);
    if (current.length > 0 && size + bytes > maxBytes) {
      lines.push(current);
      current = [];
      size = 0;
    }
    current.push(cmd);
    size += bytes;
  }
  if (current.length > 0) lines.push(current);
  return lines;
}
