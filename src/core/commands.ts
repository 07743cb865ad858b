import { isIPAddress } from './ip.ts';
import type { Step } from './steps.ts';
import { endpointKey } from './types.ts';

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

function checkEndpoint(address: string, port: number): string {
  if (!isIPAddress(address)) throw new UnsafeCommandError(`refusing address ${JSON.stringify(address)}: expected an IPv4 or IPv6 literal`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UnsafeCommandError(`refusing port ${String(port)}: expected 1..65535`);
  return endpointKey({ address, port });
}

/**
 * A step -> the one runtime API command that does it (management.txt, "set server", "add
 * server", "del server", "enable health"), every name and value in it checked: what is
 * rendered is what it says.
 */
export function renderStep(step: Step): string {
  const target = `${checkName('backend', step.backend)}/${checkName('server', step.server)}`;
  switch (step.kind) {
    case 'set-addr':
      checkEndpoint(step.address, step.port);
      return `set server ${target} addr ${step.address} port ${String(step.port)}`;
    case 'set-weight':
      if (!Number.isInteger(step.weight) || step.weight < 0 || step.weight > 256)
        throw new UnsafeCommandError(`refusing weight ${String(step.weight)}: expected 0..256`);
      return `set server ${target} weight ${String(step.weight)}`;
    case 'set-state':
      return `set server ${target} state ${step.state}`;
    case 'add-server': {
      const endpoint = checkEndpoint(step.address, step.port);
      if (!Number.isInteger(step.id) || step.id < 1 || step.id >= 2 ** 31)
        throw new UnsafeCommandError(`refusing server id ${String(step.id)}: expected 1..2147483647`);
      return `add server ${target} ${endpoint} id ${String(step.id)}${step.backup ? ' backup' : ''}${step.check ? ' check' : ''}`;
    }
    case 'enable-health':
      return `enable health ${target}`;
    case 'del-server':
      return `del server ${target}`;
  }
}

/** A step, for a backend of the agent's (its id, for reports), with the command that does it. */
export type Command = Readonly<{ backend: string; step: Step; text: string }>;

/** Renders (and so checks) a step of the agent's backend `backend`. */
export const command = (backend: string, step: Step): Command => ({ backend, step, text: renderStep(step) });

/**
 * HAProxy before 3.0 reads one request line into a tune.bufsize buffer (16384 bytes) and
 * closes the connection without a word when the line is longer; keep a margin for
 * maxrewrite. Commands never contain ';' (see NAME), so joining them is safe.
 */
export const MAX_LINE_BYTES = 15_000;

const utf8 = new TextEncoder();

/** Commands -> request lines of `;`-joined commands, each under `maxBytes` with its newline. */
export function batchLines<T extends Readonly<{ text: string }>>(commands: readonly T[], maxBytes = MAX_LINE_BYTES): T[][] {
  const lines: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const cmd of commands) {
    const bytes = utf8.encode(cmd.text).length + 1; // ';' or the final '\n'
    if (bytes > maxBytes) throw new UnsafeCommandError(`command longer than ${String(maxBytes)} bytes: ${cmd.text.slice(0, 80)}...`);
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
