import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, expect } from 'vitest';

/**
 * For a describe block of file-writing tests: a fresh folder per test (`dir`) under one
 * temporary root, removed at the end, and a file outside it (`victim`, as /etc/something
 * would be) that every test is checked not to have changed.
 */
export function victimFolders(prefix: string): { readonly dir: string; readonly victim: string } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const at = { dir: '', victim: '' };
  let n = 0;
  beforeEach(() => {
    at.dir = join(root, String(++n));
    mkdirSync(at.dir);
    at.victim = join(root, `victim-${String(n)}`);
    writeFileSync(at.victim, 'precious\n');
  });
  afterEach(() => {
    expect(readFileSync(at.victim, 'utf8')).toBe('precious\n');
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });
  return at;
}
