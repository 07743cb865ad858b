import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLAGS, README_FLAGS_END, README_FLAGS_START } from '../../src/cli/flags.ts';
import { flagsDocTable } from '../../scripts/flags-doc.ts';

const doc = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('docs/flags.md', () => {
  it('has the flag table src/cli/flags.ts makes, word for word (npm run docs writes it)', () => {
    const flags = doc('docs/flags.md');
    const start = flags.indexOf(README_FLAGS_START);
    const end = flags.indexOf(README_FLAGS_END);
    expect(start, 'the table markers').toBeGreaterThan(0);
    expect(flags.slice(start + README_FLAGS_START.length, end).trim()).toBe(flagsDocTable());
    for (const f of FLAGS) expect(flags, `--${f.name}`).toMatch(new RegExp(`^\\| \`--${f.name}[ \`,]`, 'm'));
  });
});

describe('docs/haproxy.md', () => {
  it('has an HAProxy snippet that HAProxy takes as pasted, without a warning', () => {
    const snippet = /```haproxy\n([\s\S]*?)```/.exec(doc('docs/haproxy.md'))?.[1];
    expect(snippet).toContain('mode http');
    const dir = mkdtempSync(join(tmpdir(), 'hda-readme-'));
    try {
      writeFileSync(join(dir, 'haproxy.cfg'), snippet ?? '');
      const r = spawnSync('haproxy', ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8' });
      expect(r.status, r.stderr + r.stdout).toBe(0);
      expect(r.stderr + r.stdout).not.toContain('WARNING');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
