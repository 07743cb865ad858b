import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readStateFile, writeStateFile } from '../../src/state/file.ts';

describe('the state file on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hda-state-'));

  it('replaces the file whole and leaves no temporary file beside it', () => {
    const path = join(dir, 'agent.state');
    writeStateFile(path, 'first\n');
    writeStateFile(path, 'second\n');
    expect(readFileSync(path, 'utf8')).toBe('second\n');
    expect(readdirSync(dir)).toEqual(['agent.state']);
  });

  it('reads a missing file as null and an unreadable one as the error', () => {
    expect(readStateFile(join(dir, 'none'))).toBeNull();
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    expect(readStateFile(folder)).toBeInstanceOf(Error);
  });

  it('throws when the folder cannot be written', () => {
    expect(() => {
      writeStateFile(join(dir, 'missing-folder', 'agent.state'), 'x');
    }).toThrow();
  });
});
