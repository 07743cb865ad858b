import { parseCidr, type Cidr } from '../core/address-policy.ts';
import { isSafeName } from '../core/commands.ts';
import { parseDuration } from '../core/duration.ts';
import { isIPAddress } from '../core/ip.ts';
import { UsageError } from '../errors.ts';
import type { BackendSpec, HostPort, Nameserver, SocketAddress } from './model.ts';

/**
 * Readers for the values of the agent's settings. Each takes the text an operator wrote
 * and returns the value, or throws a UsageError that names what was wrong and what was
 * expected, in one line. `where` says where the text came from, as the line starts:
 * `--interval "5"` for a flag, `HAPROXY_DNS_AGENT_INTERVAL="5"` for a variable.
 */

/** The start of a problem's line for a flag's value. */
export const flagValue = (flag: string, text: string): string => `--${flag} ${JSON.stringify(text)}`;

export function parseDurationSetting(text: string, minMs: number, where: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new UsageError(`${where}: expected a duration such as 500ms, 1s, 30s, 2m or 1h`);
  if (ms < minMs) throw new UsageError(`${where}: expected at least ${String(minMs)}ms`);
  return ms;
}

const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const DNS_NAME = new RegExp(`^(?=.{1,253}\\.?$)${LABEL}(\\.${LABEL})*\\.?$`);

export function isDnsName(s: string): boolean {
  return DNS_NAME.test(s);
}

/** `<backend>[/<prefix>]=<SRV name or host:port>`. */
export function parseBackend(text: string, where = flagValue('backend', text)): BackendSpec {
  const m = /^([^=/]+)(?:\/([^=]*))?=(.*)$/.exec(text);
  const expected = 'expected <backend>[/<prefix>]=<SRV name or host:port>';
  if (m === null) throw new UsageError(`${where}: ${expected}`);
  const [, backend = '', prefix = '', record = ''] = m;
  if (!isSafeName(backend))
    throw new UsageError(
      `${where}: backend name ${JSON.stringify(backend)} is not a valid HAProxy name (letters, digits, '-', '_', '.', ':')`,
    );
  if (prefix !== '' && !isSafeName(prefix))
    throw new UsageError(`${where}: server prefix ${JSON.stringify(prefix)} is not a valid HAProxy name`);
  const id = prefix === '' ? backend : `${backend}/${prefix}`;
  const hostPort = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(record);
  if (hostPort !== null) {
    const host = hostPort[1] ?? hostPort[2] ?? '';
    const port = Number(hostPort[3]);
    if (port < 1 || port > 65535) throw new UsageError(`${where}: port ${String(port)} out of range, expected 1..65535`);
    if (!isIPAddress(host) && !isDnsName(host)) throw new UsageError(`${where}: ${JSON.stringify(host)} is not a host name: ${expected}`);
    return { backend, prefix, id, record: { kind: 'host', host, port } };
  }
  if (!isDnsName(record)) throw new UsageError(`${where}: ${JSON.stringify(record)} is not a DNS name: ${expected}`);
  return { backend, prefix, id, record: { kind: 'srv', name: record } };
}

/** Backends managed twice, or by prefixes that overlap: one line per clash, each starting with `source` (the flag or its variable). */
/**
 * Whether a server can belong to two prefixes of one backend: the shorter is empty (every
 * server), or the longer is the shorter followed by digits (`web` and `web1` both take
 * `web12`) or by the added servers' stem (`web` adds `web-a1`, a slot of `web-a`).
 */
function prefixesMeet(a: string, b: string): boolean {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  return short === '' || (long.startsWith(short) && /^(\d*|-a\d*)$/.test(long.slice(short.length)));
}

export function backendClashes(backends: readonly BackendSpec[], source = '--backend'): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const b of backends) {
    if (seen.has(b.id)) out.push(`${source} ${b.id} given twice: expected each backend (and prefix) once`);
    seen.add(b.id);
    // Said once a pair: by the backend with the shorter prefix (the first of two as long).
    const overlap = backends.find(
      (o, j) =>
        o.backend === b.backend &&
        o.id !== b.id &&
        (o.prefix.length > b.prefix.length || (o.prefix.length === b.prefix.length && j > backends.indexOf(b))) &&
        prefixesMeet(b.prefix, o.prefix),
    );
    if (overlap !== undefined) {
      out.push(
        `${source} ${b.id} and ${overlap.id} would both manage server "${overlap.prefix}1": expected prefixes whose servers differ (a server-template names its slots <prefix><N>, the agent the servers it adds <prefix>-a<N>)`,
      );
    }
  }
  return out;
}

/** "10.0.0.10", "10.0.0.10:5353", "[fd00::10]:53" or "fd00::10". */
export function parseNameserver(text: string, where = flagValue('nameserver', text)): Nameserver {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const v4 = /^([\d.]+)(?::(\d+))?$/.exec(text);
  const host = bracket?.[1] ?? v4?.[1] ?? text;
  const portText = bracket?.[2] ?? v4?.[2];
  const port = portText === undefined ? 53 : Number(portText);
  if (!isIPAddress(host) || port < 1 || port > 65535) {
    throw new UsageError(`${where}: expected an IP address, optionally with :port (10.96.0.10, 10.96.0.10:53, [fd00::10]:53)`);
  }
  return { host, port };
}

export function parseSocket(text: string, where = flagValue('socket', text)): SocketAddress {
  if (text.includes('/')) return { kind: 'unix', path: text };
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || port < 1 || port > 65535) {
    throw new UsageError(`${where}: expected a UNIX socket path (containing '/') or host:port of a TCP stats socket`);
  }
  return { kind: 'tcp', host: m[1] ?? m[2] ?? '', port };
}

export function parseListen(text: string, where = flagValue('listen', text)): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || port < 0 || port > 65535) throw new UsageError(`${where}: expected host:port, e.g. 0.0.0.0:8080 or :8080`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** --allow-net: "10.244.0.0/16", "fd00::/8", or one address. */
export function parseAllowNet(text: string, where = flagValue('allow-net', text)): Cidr {
  const cidr = parseCidr(text);
  if (cidr === null) throw new UsageError(`${where}: expected a network such as 10.244.0.0/16, fd00::/8 or 127.0.0.0/8`);
  return cidr;
}
