import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { capabilities } from './capabilities.ts';

const caps = (version: string) => {
  const c = capabilities(version);
  if (c === null) throw new Error(`no capabilities for ${version}`);
  return c;
};

describe('capabilities: what each HAProxy version can do', () => {
  it.each([
    ['1.7.14', null],
    ['1.8.13', 19],
    ['1.8.30-c248dabed', 20],
    ['1.9.16', 20],
    ['2.3.21', 20],
    ['2.4.0', 25],
    ['2.6.12-1+deb12u4', 25],
    ['3.3.0', 25],
  ])('knows the show servers state layout %s prints', (version, columns) => {
    expect(caps(version).stateColumns).toBe(columns);
  });

  it.each([
    ['1.8.30', false],
    ['1.9.16', false],
    ['2.0.0', true],
    ['3.4.0', true],
  ])('knows whether %s answers show cli level', (version, level) => {
    expect(caps(version).cliLevel).toBe(level);
  });

  it.each([
    ['2.2.0', null],
    ['2.4.0', { check: false, cookies: false, experimental: true, unterminated: true }],
    ['2.4.22', { check: false, cookies: false, experimental: true, unterminated: true }],
    ['2.5.0', { check: true, cookies: false, experimental: true, unterminated: false }],
    ['2.6.12-1+deb12u4', { check: true, cookies: false, experimental: false, unterminated: false }],
    ['3.0.5', { check: true, cookies: true, experimental: false, unterminated: false }],
  ])('knows how %s takes add server', (version, add) => {
    expect(caps(version).addServer).toEqual(add);
  });

  it.each([
    ['1.8.30', '"add server" needs 2.4 or later'],
    ['2.3.21', '"add server" needs 2.4 or later'],
    ['2.4.0', 'it keeps a deleted server in its index of server ids; fixed in 2.4.1'],
    ['2.4.1', null],
    ['2.4.10', null],
    ['2.4-dev18', null],
    ['3.0.5', null],
  ])('says why %s gets no added server, or that it does', (version, reason) => {
    expect(caps(version).noDynamicServers).toBe(reason);
  });

  it.each([
    ['1.8.0', { maintBroken: true }],
    ['1.8.1', { maintBroken: true }],
    ['1.8.2', { maintBroken: false }],
    ['1.8.3', { maintBroken: false }],
    ['1.8.4', null],
    ['1.8.30', null],
    ['1.8', null],
    ['2.0.3', null],
  ])('names the 1.8 patch levels to upgrade from: %s', (version, upgrade) => {
    expect(caps(version).upgrade).toEqual(upgrade);
  });

  it('has nothing to say of a version that does not start with a release', () => {
    expect(capabilities('HTTP/1.1 400 Bad Request')).toBeNull();
    expect(capabilities('')).toBeNull();
  });
});

/** Every source file but this table and the tests. */
function sources(dir: URL, out: { file: string; text: string }[] = []): { file: string; text: string }[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) sources(new URL(`${e.name}/`, dir), out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && e.name !== 'capabilities.ts')
      out.push({ file: new URL(e.name, dir).pathname, text: readFileSync(new URL(e.name, dir), 'utf8') });
  }
  return out;
}

describe('capabilities are the one place that compares HAProxy versions', () => {
  const COMPARISONS: readonly [string, RegExp][] = [
    ['a release array', /\.release\b|\brelease\s*\[/],
    ['a regular expression over a version number', /\/\^\(?(\\d\+?\)?|\d)\\\./],
    ['a string test of a version', /\bversion\b\s*\.\s*(startsWith|split|match|slice|localeCompare|includes)\b/],
    ['a version matched by a regular expression', /\.(test|exec)\([^)]*\bversion\b/],
    ['a version compared as a number or a string', /\bversion\b\s*[<>]=?|[<>]=?\s*\bversion\b|\bversion\b\s*[!=]==\s*'\d/],
  ];

  it.each(COMPARISONS)('no source file holds %s', (_what, pattern) => {
    const found: string[] = [];
    for (const { file, text } of sources(new URL('../', import.meta.url))) {
      // An HTTP request line's version is not HAProxy's.
      for (const line of text.split('\n')) if (pattern.test(line) && !line.includes('HTTP')) found.push(`${file}: ${line.trim()}`);
    }
    expect(found).toEqual([]);
  });

  it('each pattern finds the comparison it is for', () => {
    const examples = [
      'if (snap.info.release[0] < 3) {',
      'const patch = /^1\\.8\\.(\\d+)\\b/.exec(snap.info.version)?.[1];',
      "if (this.version.startsWith('2.4.')) return;",
      'if (/^2\\.4\\.0(?!\\d)/.test(version)) {',
      "if (info.version === '2.4.0') {",
    ];
    for (const [i, [what, pattern]] of COMPARISONS.entries()) expect(pattern.test(examples[i] ?? ''), what).toBe(true);
  });
});
