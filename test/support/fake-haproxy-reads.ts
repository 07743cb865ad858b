import { dynamicCookie } from '../../src/core/cookie.ts';
import type { AdminState } from '../../src/core/types.ts';
import type { Capabilities } from '../../src/haproxy/capabilities.ts';
import { adminStateOf } from '../../src/haproxy/parse.ts';
import { haproxy18, haproxy26 } from './fixtures.ts';

/**
 * The fake HAProxy's servers, and what it prints when they are read (`show info`, `show
 * servers state`, `show stat`) as the version it is: the layouts of that version, the
 * rest from the 1.8.30 and 2.6.12 captures in test/fixtures.
 */

/** A server of the fake, in HAProxy's own terms. */
export type FakeServer = {
  name: string;
  /** '-' when the server has no address. */
  address: string;
  port: number;
  /** srv_admin_state bits: FMAINT 0x01, CMAINT 0x04 (declared `disabled`), FDRAIN 0x08. */
  admin: number;
  weight: number;
  /** srv_op_state: 0 down, 2 running. */
  opState: number;
  backup: boolean;
  /** Live sessions (`show stat` scur). */
  sessions: number;
  /** srv_id, when given (`id` on `add server`, or in the configuration); else its place in the backend, from 1. */
  id?: number;
  /** Health checks configured and enabled (srv_check_state 6). */
  checked?: boolean;
  /** Declared with a name (`slot.invalid:9 init-addr last,127.0.0.1`) instead of an IP literal. */
  fqdn?: string;
  /** Filled by HAProxy's own resolver from this SRV record. */
  srvRecord?: string;
};

export type FakeBackend = { servers: FakeServer[]; algo: string; cookieName: string; cookieKey: string; mode: string };

/** srv_admin_state as `set server ... state` leaves it: ready, FDRAIN, FMAINT. */
export const ADMIN: Readonly<Record<AdminState, number>> = { ready: 0, drain: 0x08, maint: 0x01 };

/** A slot as `server-template srv N 127.0.0.1:9 disabled` declares it (`backup`: with the backup keyword), `extra` changed. */
export const slot = (name: string, extra: Partial<FakeServer> = {}): FakeServer => ({
  name,
  address: '127.0.0.1',
  port: 9,
  admin: 5,
  weight: 1,
  opState: 0,
  backup: false,
  sessions: 0,
  ...extra,
});

/** Slots as `server-template <prefix> N 127.0.0.1:9 disabled` declares them. */
export const slots = (n: number, prefix = 'srv'): FakeServer[] => Array.from({ length: n }, (_, i) => slot(`${prefix}${String(i + 1)}`));

/** A server as the state shows it: ready, drain or maint. */
export const stateOf = (s: FakeServer): AdminState => adminStateOf(s.admin);

/** A level of the stats socket (`stats socket ... level <level>`). */
export type Level = 'admin' | 'operator' | 'user';

/** What the reads print of the process. */
export type Process = Readonly<{
  version: string;
  pid: number;
  uptime: number;
  startTime: number;
  stopping: boolean;
  level: Level;
  backends: ReadonlyMap<string, FakeBackend>;
  extraStateColumns: number;
  extraStateRow: string | null;
}>;

const STATE_COLUMNS =
  'be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port'.split(
    ' ',
  );

/** The captures the fake answers from, read once. */
const CAPTURED = {
  /** 1.8's answer to a command it does not know (the full usage text). */
  unknown18: haproxy18('20-add-server.txt').reply,
  unknown2: 'Unknown command. Please enter one of the following commands only:\n  help           : full commands list\n\n',
  info18: haproxy18('02-show-info.txt').reply,
  info26: haproxy26('show-info.txt'),
  statHeader18: haproxy18('05-show-stat.txt').reply.split('\n')[0] ?? '',
  statHeader26: haproxy26('show-stat-be.txt').split('\n')[0] ?? '',
};

/** What a HAProxy of that version answers to a command it does not know. */
export const UNKNOWN = { v18: CAPTURED.unknown18, v2: CAPTURED.unknown2 };

export function showInfo(h: Process, caps: Capabilities): string {
  return (caps.cliLevel ? CAPTURED.info26 : CAPTURED.info18)
    .replace(/^Version: .*$/m, `Version: ${h.version}`)
    .replace(/^Pid: \d+$/m, `Pid: ${String(h.pid)}`)
    .replace(/^Uptime_sec: \d+$/m, `Uptime_sec: ${String(h.uptime)}`)
    .replace(/^Stopping: \d+$/m, `Stopping: ${h.stopping ? '1' : '0'}`)
    .replace(/^Start_time_sec: \d+\n/m, caps.addServer === null ? '' : `Start_time_sec: ${String(h.startTime)}\n`);
}

export function showServersState(h: Process, backend: string, caps: Capabilities): string {
  const b = h.backends.get(backend);
  if (b === undefined) return "Can't find backend.\n\n";
  const columns = STATE_COLUMNS.slice(0, caps.stateColumns ?? 25);
  const header = [...columns, ...Array.from({ length: h.extraStateColumns }, () => 'x')].join(' ');
  const rows = b.servers.map((s, i) => {
    const value: Record<string, string> = {
      be_id: '3',
      be_name: backend,
      srv_id: String(s.id ?? i + 1),
      srv_name: s.name,
      srv_addr: s.address,
      srv_op_state: String(s.opState),
      srv_admin_state: String(s.admin),
      srv_uweight: String(s.weight),
      srv_iweight: '1',
      srv_check_state: s.checked === true ? '6' : '0',
      srv_fqdn: s.fqdn ?? '-',
      srv_port: String(s.port),
      srvrecord: s.srvRecord ?? '-',
      srv_check_addr: '-',
      srv_agent_addr: '-',
    };
    return [...columns.map((c) => value[c] ?? '0'), ...Array.from({ length: h.extraStateColumns }, () => '0')].join(' ');
  });
  if (h.extraStateRow !== null) rows.push(h.extraStateRow);
  return `1\n# ${header}\n${rows.map((r) => `${r}\n`).join('')}\n`;
}

export function showStat(h: Process, backend: string, caps: Capabilities): string {
  const header = caps.cliLevel ? CAPTURED.statHeader26 : CAPTURED.statHeader18;
  const names = header.slice(2).split(',');
  const row = (values: Record<string, string>): string => names.map((n) => values[n] ?? '').join(',');
  const b = h.backends.get(backend);
  if (b === undefined) return `${header}\n\n`;
  // Below level operator, show stat leaves addr and cookie empty.
  const shown = h.level !== 'user';
  const rows = b.servers.map((s) =>
    row({
      pxname: backend,
      svname: s.name,
      scur: String(s.sessions),
      status: stateOf(s) === 'maint' ? 'MAINT' : stateOf(s) === 'drain' ? 'DRAIN' : 'UP',
      weight: String(s.weight),
      act: s.backup ? '0' : '1',
      bck: s.backup ? '1' : '0',
      addr: !shown || s.address === '-' ? '' : `${s.address.includes(':') ? `[${s.address}]` : s.address}:${String(s.port)}`,
      cookie: !shown || s.address === '-' ? '' : dynamicCookie(b.cookieKey, s.address, s.port),
    }),
  );
  rows.push(row({ pxname: backend, svname: 'BACKEND', cookie: b.cookieName, algo: b.algo, mode: b.mode }));
  return `${header}\n${rows.join('\n')}\n\n`;
}
