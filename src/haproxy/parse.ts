import { HaproxyProtocolError } from '../errors.ts';
import type { AdminState } from '../core/types.ts';
import { capabilities, type Capabilities } from './capabilities.ts';

/**
 * Readers for HAProxy's text output. They look columns up by the names in the header row,
 * never by position, because every major version appended columns (runtime API reference,
 * section 3.1), and they throw rather than guess.
 */

/** `show servers state` layouts: 1.8.0-1.8.13 (19), 1.8.14-2.3 (20), 2.4-3.3 (25); see capabilities(). */
export const KNOWN_STATE_LAYOUTS: readonly number[] = [19, 20, 25];

/** How many columns a `show servers state` dump has (its header's names). */
export function stateColumns(text: string): number {
  // The first line that starts with "# ", found without splitting a dump of every server into lines.
  const at = text.startsWith('# ') ? 0 : text.indexOf('\n# ') + 1;
  if (at === 0 && !text.startsWith('# ')) return 0;
  const end = text.indexOf('\n', at);
  return text
    .slice(at + 2, end === -1 ? undefined : end)
    .trim()
    .split(' ').length;
}

const STATE_COLUMNS = [
  'be_name',
  'srv_id',
  'srv_name',
  'srv_addr',
  'srv_op_state',
  'srv_admin_state',
  'srv_uweight',
  'srv_iweight',
  'srv_check_state',
  'srv_port',
  'srv_fqdn',
] as const;

export type ServerStateRow = Readonly<{
  backend: string;
  id: number;
  name: string;
  /** '-' when the server has no address. */
  address: string;
  port: number;
  opState: number;
  adminBits: number;
  admin: AdminState;
  weight: number;
  initialWeight: number;
  checked: boolean;
  /** The name the server was declared with (srv_fqdn), null for an IP literal. */
  fqdn: string | null;
  /** The SRV record HAProxy's own resolver fills the server from (srvrecord, 1.8.14+), null when none. */
  srvRecord: string | null;
}>;

/** srv_admin_state bits (server.h): FMAINT|IMAINT|RMAINT is maintenance, FDRAIN|IDRAIN drain. */
const ADMF_MAINT = 0x23;
const ADMF_DRAIN = 0x18;
/** srv_check_state: CHK_ST_CONFIGURED | CHK_ST_ENABLED. */
const CHECK_ON = 0x06;

export function adminStateOf(bits: number): AdminState {
  if ((bits & ADMF_MAINT) !== 0) return 'maint';
  if ((bits & ADMF_DRAIN) !== 0) return 'drain';
  return 'ready';
}

/** Thrown by parseServersState when HAProxy says the backend does not exist. */
export const NO_BACKEND_REPLY = "Can't find backend.";

export function parseServersState(text: string): ServerStateRow[] {
  const lines = text.split('\n').filter((l) => l !== '');
  const [version, header, ...rows] = lines;
  // A reply that cannot be read is a fault of that reply (soft: the lane says it and reads
  // again next run); only a layout HAProxy really prints and the agent does not know is fatal.
  if (version?.trim() !== '1') {
    throw new HaproxyProtocolError(
      `show servers state: expected format version "1" on the first line, got ${JSON.stringify((version ?? '').slice(0, 80))}`,
      true,
    );
  }
  if (header === undefined || !header.startsWith('# ')) {
    throw new HaproxyProtocolError('show servers state: expected a "# be_id be_name ..." header on the second line', true);
  }
  const names = header.slice(2).trim().split(' ');
  if (!KNOWN_STATE_LAYOUTS.includes(names.length)) {
    throw new HaproxyProtocolError(
      `show servers state: ${String(names.length)} columns is not a known layout (expected ${KNOWN_STATE_LAYOUTS.join(', ')}: HAProxy 1.8 or later)`,
      false,
    );
  }
  const col = columnIndex(names, STATE_COLUMNS, 'show servers state');
  // 1.8.0-1.8.13 print no srvrecord column.
  const srvRecordAt = names.indexOf('srvrecord');
  return rows
    .filter((l) => !l.startsWith('#'))
    .map((line, i) => {
      // Split on single spaces: 1.8.0-1.8.9 print an empty srv_addr, which must stay a column.
      const f = line.split(' ');
      if (f.length !== names.length) {
        throw new HaproxyProtocolError(
          `show servers state: row ${String(i + 1)} has ${String(f.length)} columns, the header ${String(names.length)}`,
          true,
        );
      }
      const adminBits = intField(f, col.srv_admin_state, 'srv_admin_state', i);
      const address = f[col.srv_addr] ?? '';
      const fqdn = f[col.srv_fqdn] ?? '';
      const srvRecord = srvRecordAt < 0 ? '-' : (f[srvRecordAt] ?? '-');
      return {
        backend: f[col.be_name] ?? '',
        id: intField(f, col.srv_id, 'srv_id', i),
        name: f[col.srv_name] ?? '',
        address: address === '' ? '-' : address,
        port: intField(f, col.srv_port, 'srv_port', i),
        opState: intField(f, col.srv_op_state, 'srv_op_state', i),
        adminBits,
        admin: adminStateOf(adminBits),
        weight: intField(f, col.srv_uweight, 'srv_uweight', i),
        initialWeight: intField(f, col.srv_iweight, 'srv_iweight', i),
        checked: (intField(f, col.srv_check_state, 'srv_check_state', i) & CHECK_ON) === CHECK_ON,
        fqdn: fqdn === '-' || fqdn === '' ? null : fqdn,
        srvRecord: srvRecord === '-' || srvRecord === '' ? null : srvRecord,
      };
    });
}

/** Field `at` (column `c`) of row `i` as a whole number; a function of its own, not a closure per row: a dump has a row per server. */
function intField(f: readonly string[], at: number, c: string, i: number): number {
  const text = f[at] ?? '';
  const v = Number(text);
  if (!Number.isInteger(v))
    throw new HaproxyProtocolError(
      `show servers state: ${c} is not a number in row ${String(i + 1)}: ${JSON.stringify(text.slice(0, 40))}`,
      true,
    );
  return v;
}

function columnIndex<C extends string>(names: readonly string[], wanted: readonly C[], what: string): Record<C, number> {
  const out = {} as Record<C, number>;
  for (const c of wanted) {
    const i = names.indexOf(c);
    if (i < 0) throw new HaproxyProtocolError(`${what}: column ${c} missing from the header`, false);
    out[c] = i;
  }
  return out;
}

export type ShowInfo = Readonly<{
  version: string;
  /** What this version can do (capabilities.ts). */
  caps: Capabilities;
  pid: number;
  processNum: number;
  uptimeSec: number;
  /** 2.4+ only. */
  startTimeSec: number | null;
  stopping: boolean;
}>;

export function parseShowInfo(text: string): ShowInfo {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(': ');
    if (i > 0) fields.set(line.slice(0, i), line.slice(i + 2).trim());
  }
  const version = fields.get('Version');
  const caps = version === undefined ? null : capabilities(version);
  if (version === undefined || caps === null) {
    throw new HaproxyProtocolError(`show info: no Version line in ${JSON.stringify(text.slice(0, 80))}`, true);
  }
  const num = (k: string): number => {
    const v = Number(fields.get(k));
    if (!Number.isFinite(v)) throw new HaproxyProtocolError(`show info: ${k} missing or not a number`, true);
    return v;
  };
  const start = fields.get('Start_time_sec');
  return {
    version,
    caps,
    pid: num('Pid'),
    processNum: fields.has('Process_num') ? num('Process_num') : 1,
    uptimeSec: num('Uptime_sec'),
    startTimeSec: start === undefined ? null : Number(start),
    stopping: fields.get('Stopping') === '1',
  };
}

export type StatRow = Readonly<Record<string, string>>;

/** `show stat` CSV -> rows keyed by header names ("# pxname,svname,..."), only `columns` when given. */
export function parseShowStat(text: string, columns?: readonly string[]): StatRow[] {
  const lines = text.split('\n').filter((l) => l !== '');
  const [header, ...rows] = lines;
  if (header === undefined || !header.startsWith('# pxname,')) {
    throw new HaproxyProtocolError(`show stat: expected a "# pxname,..." header, got ${JSON.stringify((header ?? '').slice(0, 40))}`, true);
  }
  const names = splitCsv(header.slice(2));
  return rows.map((line) => {
    const f = splitCsv(line);
    const row: Record<string, string> = {};
    names.forEach((n, i) => {
      if (n !== '' && (columns === undefined || columns.includes(n))) row[n] = f[i] ?? '';
    });
    return row;
  });
}

/** CSV fields; HAProxy quotes a field that holds a comma or a quote (csv_enc). */
function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line.charAt(i);
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * What one backend's `show servers state` reply says of its servers, as one text, read
 * without making a row: per server its id, name, address, port, operational and admin
 * state, weights, and whether it is checked (srv_time_since_last_change and the checks'
 * progress left out). Two replies with the same print would be planned the same. A drift
 * check at rest compares prints and parses the rows only when they differ; a reply that
 * does not parse prints unlike any that does (its header and rows whole).
 */
export function statePrint(text: string): string {
  if (text.trim() === NO_BACKEND_REPLY) return '-';
  const lines = text.split('\n');
  const header = lines[1] ?? '';
  const names = header.startsWith('# ') ? header.slice(2).trim().split(' ') : [];
  const at = PRINT_COLUMNS.map((c) => names.indexOf(c));
  const checkAt = names.indexOf('srv_check_state');
  if (lines[0]?.trim() !== '1' || at.includes(-1) || checkAt < 0) return text;
  const parts: string[] = [header];
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(' ');
    if (f.length !== names.length) return text;
    for (const c of at) parts.push(f[c] ?? '');
    parts.push((Number(f[checkAt]) & CHECK_ON) === CHECK_ON ? 'c\n' : '-\n');
  }
  return parts.join(' ');
}

const PRINT_COLUMNS = [
  'be_name',
  'srv_id',
  'srv_name',
  'srv_addr',
  'srv_port',
  'srv_op_state',
  'srv_admin_state',
  'srv_uweight',
  'srv_iweight',
];
