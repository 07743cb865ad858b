import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isHostname, presentName, printableText } from './names.ts';

const PRINTABLE = /^[\x20-\x7e]*$/;

describe('isHostname', () => {
  it.each([
    ['10-1-43-243.web.default.svc.cluster.local', true],
    ['_http._tcp.web.default.svc.cluster.local.', true],
    ['a', true],
    ['', false],
    ['a..b', false],
    ['a b', false],
    ['a\ndisable frontend fe', false],
    ['a;b', false],
    ['ä.example', false],
    [`${'a'.repeat(64)}.example`, false],
    [`${'a'.repeat(63)}.example`, true],
    [Array.from({ length: 127 }, () => 'a').join('.'), true], // 253 bytes with the dots: the limit
    [Array.from({ length: 128 }, () => 'a').join('.'), false],
  ])('%j -> %s', (name, ok) => {
    expect(isHostname(name)).toBe(ok);
  });
});

describe('presentName', () => {
  it('writes RFC 1035 presentation form: \\DDD for every other byte, \\\\ for a backslash', () => {
    expect(presentName('a\ndisable frontend fe')).toBe('a\\010disable\\032frontend\\032fe');
    expect(presentName('x;y\\z.example')).toBe('x\\059y\\\\z.example');
    expect(presentName('ä')).toBe('\\195\\164');
  });

  it('always gives printable ASCII with no space, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const p = presentName(s);
        expect(p).toMatch(/^[\x21-\x7e]*$/);
      }),
    );
  });
});

describe('printableText', () => {
  it('leaves printable ASCII alone and escapes the rest', () => {
    expect(printableText('# be_app <- web: 1 endpoint')).toBe('# be_app <- web: 1 endpoint');
    expect(printableText('# a\nset server x')).toBe('# a\\010set server x');
  });

  it('never lets a line break, a carriage return or an escape sequence through', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(printableText(s)).toMatch(PRINTABLE);
      }),
    );
  });
});
