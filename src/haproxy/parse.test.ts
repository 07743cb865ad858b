import { describe, expect, it } from 'vitest';
import { haproxy18, haproxy26 } from '../../test/support/fixtures.ts';
import { HaproxyProtocolError } from '../errors.ts';
import { splitReplies } from './framing.ts';
import { capabilities } from './capabilities.ts';
import { adminStateOf, parseServersState, parseShowInfo, parseShowStat, statePrint } from './parse.ts';

const state18 = (): string => splitReplies(haproxy18('04-show-servers-state-be.txt').reply, 1).replies[0] ?? '';

describe('parseServersState', () => {
  it("reads 1.8.30's 20-column layout", () => {
    const rows = parseServersState(state18());
    expect(rows).toHaveLength(5);
    expect(rows[0]).toMatchObject({
      backend: 'be_app',
      id: 1,
      name: 'srv1',
      address: '127.0.0.1',
      port: 9,
      admin: 'maint',
      weight: 1,
      checked: true,
    });
  });

  it("reads 2.6's 25-column layout", () => {
    const rows = parseServersState(splitReplies(haproxy26('show-servers-state-ready-drain.txt'), 1).replies[0] ?? '');
    expect(rows.map((r) => [r.name, r.address, r.port, r.admin, r.weight])).toEqual([
      ['srv1', '127.0.1.1', 8081, 'ready', 256],
      ['srv2', '127.0.0.1', 9, 'drain', 1],
      ['srv3', '127.0.0.1', 9, 'maint', 1],
      ['srv4', '127.0.0.1', 9, 'maint', 1],
      ['srv5', '127.0.0.1', 9, 'maint', 1],
    ]);
  });

  it('reads the name a slot was declared with and the SRV record HAProxy fills it from (2.6)', () => {
    const rows = parseServersState(splitReplies(haproxy26('show-servers-state-named-srv.txt'), 1).replies[0] ?? '');
    expect(rows.map((r) => [r.name, r.address, r.fqdn, r.srvRecord])).toEqual([
      ['srv1', '127.0.0.1', 'slot.invalid', null],
      ['srv2', '127.0.0.1', 'slot.invalid', null],
      ['dns1', '-', null, '_http._tcp.web.default.svc.cluster.local'],
      ['dns2', '-', null, '_http._tcp.web.default.svc.cluster.local'],
    ]);
  });

  it('reads no SRV record from the 1.8.0-1.8.13 layout, which has no such column', () => {
    const text = state18().replace(' srvrecord', '').replace(/ -$/gm, '');
    expect(parseServersState(text).map((r) => [r.fqdn, r.srvRecord])[0]).toEqual([null, null]);
  });

  it('reads ready, drain and maint from the 1.8.30 transcripts', () => {
    const at = (f: string): string[] => parseServersState(splitReplies(haproxy18(f).reply, 1).replies[0] ?? '').map((r) => r.admin);
    expect(at('14-show-servers-state-be-up.txt').slice(0, 2)).toEqual(['ready', 'ready']);
    expect(at('28-show-servers-state-drain.txt')[0]).toBe('drain');
    expect(at('32-show-servers-state-maint.txt')[0]).toBe('maint');
  });

  it('keeps an empty srv_addr (1.8.0-1.8.9) as a column and reads it as no address', () => {
    const text = state18().replace('3 be_app 1 srv1 127.0.0.1 0', '3 be_app 1 srv1  0');
    expect(parseServersState(text)[0]?.address).toBe('-');
  });

  it('refuses a layout it does not know rather than guess', () => {
    const text = state18().replace('srvrecord', 'srvrecord extra');
    expect(() => parseServersState(text)).toThrow(/21 columns is not a known layout/);
  });

  it('refuses the 1.6/1.7 layout, which has no port', () => {
    const header =
      '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id';
    expect(() => parseServersState(`1\n${header}\n`)).toThrow(HaproxyProtocolError);
  });

  it('refuses a short row', () => {
    expect(() => parseServersState(`${state18()}\n3 be_app 6 srv6\n`)).toThrow(/row 6 has 4 columns/);
  });

  it('refuses a reply that is not a state dump', () => {
    expect(() => parseServersState("Can't find backend.\n")).toThrow(/format version/);
  });
});

describe('adminStateOf', () => {
  it.each([
    [0, 'ready'],
    [4, 'ready'], // CMAINT stays set on a `disabled` slot made ready
    [1, 'maint'],
    [5, 'maint'],
    [0x20, 'maint'], // RMAINT
    [8, 'drain'],
    [12, 'drain'],
    [0x10, 'drain'],
    [0x40, 'ready'], // HMAINT alone is not maintenance
  ])('reads %i as %s', (bits, state) => {
    expect(adminStateOf(bits)).toBe(state);
  });
});

describe('parseShowInfo', () => {
  it('reads 1.8.30', () => {
    const info = parseShowInfo(haproxy18('02-show-info.txt').reply);
    expect(info).toMatchObject({
      version: '1.8.30-c248dabed',
      caps: capabilities('1.8.30'),
      pid: 16218,
      uptimeSec: 1,
      startTimeSec: null,
      stopping: false,
      processNum: 1,
    });
  });

  it('reads 2.6, with Start_time_sec', () => {
    const info = parseShowInfo(haproxy26('show-info.txt'));
    expect(info.caps).toEqual(capabilities('2.6.12'));
    expect(info.startTimeSec).toBeGreaterThan(0);
  });
});

describe('parseShowStat', () => {
  it('maps columns by header in 1.8.30 and 2.6', () => {
    const r18 = parseShowStat(haproxy18('15-show-stat-up.txt').reply).find((r) => r['svname'] === 'srv1');
    expect(r18).toMatchObject({ addr: '127.0.1.1:8081', cookie: '3a2390cc47546ba0', bck: '0', status: 'UP 1/3' });
    const be26 = parseShowStat(haproxy26('show-stat-be.txt')).find((r) => r['svname'] === 'BACKEND');
    expect(be26).toMatchObject({ algo: 'roundrobin', cookie: 'SRVID' });
  });

  it('reads a quoted field holding a comma', () => {
    const [row] = parseShowStat('# pxname,svname,check_desc,addr,\nbe,srv1,"Layer7 wrong status, 503",10.0.0.1:80,\n');
    expect(row?.['check_desc']).toBe('Layer7 wrong status, 503');
    expect(row?.['addr']).toBe('10.0.0.1:80');
  });
});

describe('statePrint', () => {
  const state = splitReplies(haproxy26('show-servers-state-ready-drain.txt'), 1).replies[0] ?? '';
  const [format = '', header = '', ...rows] = state.split('\n');
  const names = header.slice(2).split(' ');
  /** The dump with column `column` of row `row` set to `value`. */
  const withField = (row: number, column: string, value: string): string =>
    [
      format,
      header,
      ...rows.map((line, i) => {
        if (i !== row) return line;
        const f = line.split(' ');
        f[names.indexOf(column)] = value;
        return f.join(' ');
      }),
    ].join('\n');

  it('is the same when only the time since the last change, or a check in progress, moved', () => {
    const check = Number(rows[0]?.split(' ')[names.indexOf('srv_check_state')]);
    expect(statePrint(withField(0, 'srv_time_since_last_change', '12345'))).toBe(statePrint(state));
    expect(statePrint(withField(0, 'srv_check_state', String(check | 1)))).toBe(
      statePrint(withField(0, 'srv_check_state', String(check & ~1))),
    );
  });

  it('differs when what a plan reads differs: address, port, weight, admin state, checks on or off', () => {
    const print = statePrint(state);
    for (const [column, value] of [
      ['srv_addr', '10.9.9.9'],
      ['srv_port', '1234'],
      ['srv_uweight', '7'],
      ['srv_admin_state', '1'],
      ['srv_check_state', '0'],
    ] as const)
      expect(statePrint(withField(0, column, value)), column).not.toBe(print);
  });

  it('prints a row with another column count unlike any that parses', () => {
    const cut = [format, header, `${rows[0] ?? ''} extra`, ...rows.slice(1)].join('\n');
    expect(() => parseServersState(cut)).toThrow(HaproxyProtocolError);
    expect(statePrint(cut)).toBe(cut);
    expect(statePrint(cut)).not.toBe(statePrint(state));
  });
});
