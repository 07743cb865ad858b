import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FLAGS } from '../../src/cli/flags.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('lists every flag in its table', () => {
    for (const f of FLAGS) expect(README, `--${f.name}`).toMatch(new RegExp(`^\\| \`--${f.name}[ \`,]`, 'm'));
  });
});
