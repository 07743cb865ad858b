import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLAGS, flagsTable, README_FLAGS_END, README_FLAGS_START } from '../../src/cli/flags.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('has the flag table src/cli/flags.ts makes, word for word (npm run docs writes it)', () => {
    const start = README.indexOf(README_FLAGS_START);
    const end = README.indexOf(README_FLAGS_END);
    expect(start, 'the table markers').toBeGreaterThan(0);
    expect(README.slice(start + README_FLAGS_START.length, end).trim()).toBe(flagsTable());
    for (const f of FLAGS) expect(README, `--${f.name}`).toMatch(new RegExp(`^\\| \`--${f.name}[ \`,]`, 'm'));
  });

  it('has an HAProxy snippet that HAProxy takes as pasted, without a warning', () => {
    const snippet = /```haproxy\n([\s\S]*?)```/.exec(README)?.[1];
    expect(snippet).toContain('mode http');
    const cfg = join(mkdtempSync(join(tmpdir(), 'hda-readme-')), 'haproxy.cfg');
    writeFileSync(cfg, snippet ?? '');
    const r = spawnSync('haproxy', ['-c', '-f', cfg], { encoding: 'utf8' });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stderr + r.stdout).not.toContain('WARNING');
  });
});
