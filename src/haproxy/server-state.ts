import { describeSocket, type SocketAddress } from '../config/model.ts';
import { printableText } from '../core/names.ts';
import { AgentError, HaproxyProtocolError } from '../errors.ts';
import { splitReplies } from './framing.ts';
import { exchange } from './socket.ts';

/*
 * HAProxy's own `show servers state` of every backend, the text its `server-state-file`
 * reads at a reload (the usual reload script writes the same with socat), and how the
 * dumps of several processes (1.8 nbproc, one socket each) make one file.
 */

/**
 * The most a dump may weigh: a server's line is some 70 bytes on 2.6 with a pod's address
 * (at most about 700 with the longest names), so 8 MiB holds tens of thousands of
 * servers. A larger reply is not read further: the file is then not written.
 */
export const MAX_SERVER_STATE_BYTES = 8 << 20;

/** A dump as HAProxy printed it, or why there is none. */
export type ServerStateDump = Readonly<{ text: string; header: string }> | Readonly<{ problem: string }>;

/**
 * One exchange, `show servers state`, and the reply checked to be a whole dump in the
 * format the file takes (its format line `1`, then the columns' header): its exact text, the empty
 * line that ends it included. Never throws for what HAProxy does (unreachable, a reply
 * too large, something that is not a dump): that comes back as the problem.
 */
export async function dumpServersState(
  address: SocketAddress,
  o: Readonly<{ timeoutMs: number; maxBytes?: number }>,
): Promise<ServerStateDump> {
  const where = `HAProxy socket ${describeSocket(address)}`;
  const maxBytes = o.maxBytes ?? MAX_SERVER_STATE_BYTES;
  let raw: string;
  try {
    raw = await exchange(address, 'show servers state', o.timeoutMs, maxBytes);
  } catch (err) {
    if (err instanceof HaproxyProtocolError) {
      return { problem: `${where}: show servers state answered more than ${String(maxBytes)} bytes, the most this agent writes` };
    }
    if (err instanceof AgentError) return { problem: err.message };
    throw err;
  }
  return checkDump(raw, where);
}

/**
 * The dump in `raw`, or why it is not one: a whole reply (its closing empty line), the
 * format line `1`, the header, and every server's line printable, with the header's number of
 * columns and an address (or `-`) where srv_addr is. HAProxy loads what this file says at
 * its next start: a reply cut short, or one from something that is not HAProxy, is not
 * written there.
 */
export function checkDump(raw: string, where: string): ServerStateDump {
  const refuse = (why: string): ServerStateDump => ({
    problem: `${where}: show servers state ${why}; expected a server state dump (a line "1", then "# be_id ...", then a line per server)`,
  });
  const { replies, complete } = splitReplies(raw, 1);
  if (!complete) return refuse('was cut short (no empty line after it)');
  const lines = (replies[0] ?? '').split('\n');
  const [format = '', header = ''] = lines;
  if (format !== '1' || !header.startsWith('# be_id ')) return refuse(`answered ${JSON.stringify(printableText(format.slice(0, 80)))}`);
  const columns = header.slice(2).split(' ');
  const addr = columns.indexOf('srv_addr');
  for (const [i, line] of lines.entries()) {
    if (i < 2) continue;
    const fields = line.split(' ');
    if (!PRINTABLE.test(line) || fields.length !== columns.length || (addr >= 0 && !ADDRESS.test(fields[addr] ?? ''))) {
      return refuse(`line ${String(i + 1)} is not a server's (${String(columns.length)} columns, printable, an address)`);
    }
  }
  return { text: raw, header };
}

const PRINTABLE = /^[\x20-\x7e]+$/;
/** An IPv4 or IPv6 address as HAProxy prints it, or none: `-`, or nothing before 1.8.10 (two spaces in a row). */
const ADDRESS = /^(?:-|[0-9a-fA-F:.]*)$/;

/**
 * One file from the dumps of several processes of one HAProxy (one `--socket` each, 1.8
 * nbproc), in socket order: every backend once, with the lines of the first process that
 * shows it (a process shows only the backends bound to it). One dump is returned as it is.
 * Every dump must have the same header (checked by the caller).
 */
export function mergeDumps(dumps: readonly string[]): string {
  if (dumps.length === 1) return dumps[0] ?? '';
  const [first = ''] = dumps;
  const header = first.split('\n', 2)[1] ?? '';
  const taken = new Set<string>();
  const lines = ['1', header];
  for (const dump of dumps) {
    const mine = new Set<string>();
    for (const line of dump.split('\n').slice(2)) {
      if (line === '' || line.startsWith('#')) continue;
      const backend = line.split(' ', 2)[1] ?? '';
      if (taken.has(backend)) continue;
      mine.add(backend);
      lines.push(line);
    }
    for (const b of mine) taken.add(b);
  }
  return `${lines.join('\n')}\n\n`;
}
