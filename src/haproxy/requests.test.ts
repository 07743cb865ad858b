import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { command, MAX_LINE_BYTES, type Command } from '../core/commands.ts';
import type { Step } from '../core/steps.ts';
import { capabilities } from './capabilities.ts';
import { stepLines, type LineRequest } from './requests.ts';

const add = (server: string): Command =>
  command('be_app', {
    kind: 'add-server',
    backend: 'be_app',
    server,
    address: '10.0.0.1',
    port: 80,
    id: 1001,
    backup: false,
    check: false,
  });
const del = (server: string): Command => command('be_app', { kind: 'del-server', backend: 'be_app', server });
const ready = (server: string): Command => command('be_app', { kind: 'set-state', backend: 'be_app', server, state: 'ready' });

/** Each line as the text sent, and what each request of it is for. */
const sent = (lines: LineRequest[][]): string[] => lines.map((l) => l.map((r) => r.text).join(';'));
const addServerOf = (version: string) => capabilities(version)?.addServer ?? null;

describe('stepLines: the lines that carry steps, framed by the kind of each step and the version', () => {
  it('sends set server steps as they are, on any version', () => {
    for (const version of ['1.8.30', '2.6.12', '3.0.5']) {
      expect(sent(stepLines([ready('srv1'), ready('srv2')], addServerOf(version)))).toEqual([
        'set server be_app/srv1 state ready;set server be_app/srv2 state ready',
      ]);
    }
  });

  it('on 2.4: experimental mode first, a probe after each add server, and no del server last on a line', () => {
    const lines = stepLines([add('srv-a1'), ready('srv-a1'), del('srv-a2')], addServerOf('2.4.22'));
    expect(sent(lines)).toEqual([
      'experimental-mode on;add server be_app/srv-a1 10.0.0.1:80 id 1001;show cli level;set server be_app/srv-a1 state ready;del server be_app/srv-a2;show cli level',
    ]);
    expect(lines[0]?.map((r) => r.role)).toEqual(['experimental', 'step', 'probe', 'step', 'step', 'probe']);
  });

  it('on 2.5: experimental mode, and a probe only after del server', () => {
    expect(sent(stepLines([add('srv-a1'), del('srv-a2')], addServerOf('2.5.0')))).toEqual([
      'experimental-mode on;add server be_app/srv-a1 10.0.0.1:80 id 1001;del server be_app/srv-a2;show cli level',
    ]);
  });

  it('from 2.6: add server alone', () => {
    expect(sent(stepLines([add('srv-a1')], addServerOf('2.6.12')))).toEqual(['add server be_app/srv-a1 10.0.0.1:80 id 1001']);
  });

  it('never sends add or del server twice (a connection cut after it was sent), and anything else may be', () => {
    const lines = stepLines([ready('srv1'), add('srv-a1'), del('srv-a2')], addServerOf('2.6.12'));
    expect(lines.flat().map((r) => [r.text.split(' ').slice(0, 2).join(' '), r.repeatable])).toEqual([
      ['set server', true],
      ['add server', false],
      ['del server', false],
      ['show cli', true],
    ]);
  });

  it('keeps every line under the limit HAProxy before 3.0 drops silently, the framing included', () => {
    const steps: Step[] = Array.from({ length: 2000 }, (_, i) => ({
      kind: 'set-state',
      backend: 'be_app',
      server: `srv${String(i)}`,
      state: 'ready',
    }));
    const lines = stepLines(
      steps.map((s) => command('be_app', s)),
      addServerOf('2.6.12'),
    );
    expect(lines.length).toBeGreaterThan(1);
    for (const l of sent(lines)) expect(Buffer.byteLength(l) + 1).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(lines.flat().filter((r) => r.role === 'step')).toHaveLength(2000);
  });
});

/** Every source file but the tests. */
function sources(dir: URL, out: { file: string; text: string }[] = []): { file: string; text: string }[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) sources(new URL(`${e.name}/`, dir), out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
      out.push({ file: new URL(e.name, dir).pathname, text: readFileSync(new URL(e.name, dir), 'utf8') });
  }
  return out;
}

describe('commands are rendered from steps, never read back from their text', () => {
  const COMMAND = '(set server|add server|del server|enable health|experimental-mode|show )';
  const READ_BACK: readonly [string, RegExp][] = [
    ['a command recognised by its first words', new RegExp(`(startsWith\\(|[!=]== )'${COMMAND}`)],
    ['a command matched by a regular expression', /\/\^\(?(set|add|del) server/],
  ];

  it.each(READ_BACK)('no source file holds %s', (_what, pattern) => {
    const found: string[] = [];
    for (const { file, text } of sources(new URL('../', import.meta.url)))
      for (const line of text.split('\n')) if (pattern.test(line)) found.push(`${file}: ${line.trim()}`);
    expect(found).toEqual([]);
  });

  it('each pattern finds what it is for', () => {
    const examples = ["if (c.text.startsWith('add server ')) texts.push(PROBE);", 'if (/^set server \\S+ addr /.test(command)) {'];
    for (const [i, [what, pattern]] of READ_BACK.entries()) expect(pattern.test(examples[i] ?? ''), what).toBe(true);
  });
});
