import { describe, expect, it } from 'vitest';
import { haproxy18, haproxy26 } from '../../test/support/fixtures.ts';
import { checkDump, mergeDumps } from './server-state.ts';

const WHERE = 'HAProxy socket /run/admin.sock';

/** 2.6.12's dump of two backends, as `show servers state` prints it (the empty line that ends the reply included). */
const BE_APP = haproxy26('show-servers-state-named-srv.txt');
const HEADER = BE_APP.split('\n')[1] ?? '';
const row = (backend: string, id: number, server: string, address: string): string =>
  `${String(id)} ${backend} 1 ${server} ${address} 2 0 1 1 5 1 0 2 0 0 0 0 - 8080 - 0 0 - - 0`;
const dump = (...rows: string[]): string => `1\n${HEADER}\n${rows.join('\n')}\n\n`;

describe('checkDump: only a whole server state dump is written where HAProxy loads it', () => {
  it('takes the dumps of 1.8.30 and 2.6.12 as HAProxy sent them, byte for byte', () => {
    for (const text of [BE_APP, haproxy18('14-show-servers-state-be-up.txt').reply, haproxy26('show-servers-state-ready-drain.txt')]) {
      expect(checkDump(text, WHERE)).toEqual({ text, header: text.split('\n')[1] });
    }
  });

  it('takes a dump of no server, and an empty address as 1.8.0-1.8.9 print it', () => {
    expect(checkDump(`1\n${HEADER}\n\n`, WHERE)).toEqual({ text: `1\n${HEADER}\n\n`, header: HEADER });
    const old = dump(row('be_app', 3, 'srv1', '')); // "srv1  2": two spaces
    expect('text' in checkDump(old, WHERE)).toBe(true);
  });

  it.each([
    ['cut short: no empty line after it', dump(row('be_app', 3, 'srv1', '10.0.0.1')).slice(0, -1), /was cut short/],
    ['the master CLI', 'Unknown command. Please enter one of the following commands only :\n  show proc\n\n', /answered "Unknown command/],
    ['another format version', `2\n${HEADER}\n\n`, /answered "2"/],
    ['no header', '1\n3 be_app 1 srv1 10.0.0.1\n\n', /answered "1"/],
    ['a line with a column too few', dump(row('be_app', 3, 'srv1', '10.0.0.1').replace(/ 0$/, '')), /line 3 is not a server's/],
    ['a control character', dump(row('be_app', 3, 'srv\u001b1', '10.0.0.1')), /line 3 is not a server's/],
    ['a name where the address is', dump(row('be_app', 3, 'srv1', 'evil.example')), /line 3 is not a server's/],
  ])('refuses %s, naming the socket', (_, raw, why) => {
    const r = checkDump(raw, WHERE);
    expect('problem' in r && r.problem).toMatch(new RegExp(`^${WHERE}: show servers state `));
    expect('problem' in r && r.problem).toMatch(why);
  });
});

describe('mergeDumps: one file from the processes of one HAProxy (1.8 nbproc)', () => {
  it('is the dump itself for one socket', () => {
    expect(mergeDumps([BE_APP])).toBe(BE_APP);
  });

  it('holds every backend once, from the first socket that shows it, in socket order', () => {
    const first = dump(row('be_app', 3, 'srv1', '10.0.0.1'), row('be_app', 3, 'srv2', '10.0.0.2'));
    // The second process shows be_app too (its own state of it), and be_only2, bound to it alone.
    const second = dump(row('be_app', 3, 'srv1', '10.9.9.9'), row('be_only2', 4, 'a', '10.0.1.1'));
    const third = dump(row('be_only2', 4, 'a', '10.8.8.8'), row('be_only3', 5, 'b', '10.0.2.1'));
    const merged = mergeDumps([first, second, third]);
    expect(merged).toBe(
      dump(
        row('be_app', 3, 'srv1', '10.0.0.1'),
        row('be_app', 3, 'srv2', '10.0.0.2'),
        row('be_only2', 4, 'a', '10.0.1.1'),
        row('be_only3', 5, 'b', '10.0.2.1'),
      ),
    );
    expect('text' in checkDump(merged, WHERE)).toBe(true);
  });
});
