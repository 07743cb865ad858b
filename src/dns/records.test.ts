import type { Answer } from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { makeHostAnswer, makeSrvAnswer, readSrv, type Address } from './records.ts';

const NAME = '_http._tcp.web.example';

const srv = (target: string, port: number, priority = 0, weight = 10): Answer => ({
  type: 'SRV',
  name: NAME,
  ttl: 30,
  data: { priority, weight, port, target },
});
const addrs = (...list: string[]): Address[] => list.map((address) => ({ address, ttl: 30 }));
const keys = (a: ReturnType<typeof makeSrvAnswer>): string[] =>
  a.status === 'ok' ? a.endpoints.map((e) => `${e.address}:${String(e.port)} p${String(e.priority)}`) : [a.status];

describe('makeSrvAnswer', () => {
  it('takes the preferred priority and the heavier weight first when --max-endpoints cuts, and counts what it left out', () => {
    const records = [srv('c.web', 80, 10), srv('b.web', 80, 0, 5), srv('a.web', 80, 0, 50)];
    const targets = new Map([
      ['a.web', addrs('10.0.0.1')],
      ['b.web', addrs('10.0.0.2')],
      ['c.web', addrs('10.0.0.3')],
    ]);
    const a = makeSrvAnswer(NAME, readSrv(NAME, records), targets, 2);
    expect(keys(a)).toEqual(['10.0.0.1:80 p0', '10.0.0.2:80 p0']);
    expect(a.status === 'ok' ? a.dropped : a).toBe(1);
    expect(a.status === 'ok' ? a.overCap : a).toEqual(['c.web:80']);
  });

  it('names at most 10 of the records --max-endpoints left out, in preference order, and none when nothing was', () => {
    const names = Array.from({ length: 30 }, (_, i) => `t${String(i).padStart(2, '0')}.web`);
    const records = names.map((t) => srv(t, 80));
    const targets = new Map(names.map((t, i) => [t, addrs(`10.0.0.${String(i + 1)}`)]));
    const a = makeSrvAnswer(NAME, readSrv(NAME, records), targets, 5);
    expect(a.status === 'ok' ? [a.dropped, a.overCap] : a).toEqual([
      25,
      Array.from({ length: 10 }, (_, i) => `t${String(i + 5).padStart(2, '0')}.web:80`),
    ]);
    const all = makeSrvAnswer(NAME, readSrv(NAME, records), targets, 30);
    expect(all.status === 'ok' ? all.overCap : all).toBeUndefined();
  });

  it('keeps the same endpoints whatever order the records and addresses came in', () => {
    const records = [srv('a.web', 80), srv('b.web', 80), srv('a.web', 81)];
    const many = Array.from({ length: 100 }, (_, i) => `10.1.0.${String(i)}`);
    const forward = new Map([
      ['a.web', addrs(...many)],
      ['b.web', addrs('10.2.0.1', '10.2.0.2')],
    ]);
    const backward = new Map([
      ['a.web', addrs(...[...many].reverse())],
      ['b.web', addrs('10.2.0.2', '10.2.0.1')],
    ]);
    const a = makeSrvAnswer(NAME, readSrv(NAME, records), forward, 150);
    const b = makeSrvAnswer(NAME, readSrv(NAME, [...records].reverse()), backward, 150);
    expect(keys(b).sort()).toEqual(keys(a).sort());
    // 64 addresses of a.web on each of its two ports, then b.web's two within the 150.
    expect(keys(a)).toHaveLength(130);
    expect(a.status === 'ok' ? a.dropped : a).toBe(2 * (100 - 64));
  });

  it('makes one endpoint of an address:port that several records name, and says a target without addresses once', () => {
    const records = [srv('a.web', 80), srv('a.web', 80, 0, 20), srv('gone.web', 80), srv('gone.web', 81)];
    const a = makeSrvAnswer(NAME, readSrv(NAME, records), new Map([['a.web', addrs('10.0.0.1')]]), 10);
    expect(keys(a)).toEqual(['10.0.0.1:80 p0']);
    expect(a.status === 'ok' ? [a.dropped, a.notes] : a).toEqual([0, ['SRV target gone.web has no A or AAAA record']]);
  });
});

describe('makeHostAnswer', () => {
  it('takes at most --max-endpoints addresses, the same ones whatever their order', () => {
    const list = addrs('10.0.0.3', '10.0.0.1', '10.0.0.2');
    const a = makeHostAnswer('web.example', 80, list, 2);
    expect(a.status === 'ok' ? a.overCap : a).toEqual(['10.0.0.3:80']);
    expect(keys(a)).toEqual(['10.0.0.1:80 p0', '10.0.0.2:80 p0']);
    expect(a.status === 'ok' ? a.dropped : a).toBe(1);
    expect(keys(makeHostAnswer('web.example', 80, [...list].reverse(), 2))).toEqual(keys(a));
  });
});
