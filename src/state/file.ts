import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** The state file's text, null when there is none; any other failure to read is the error, for a warning. */
export function readStateFile(path: string): string | null | Error {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * Replaces the file's content atomically: a temporary file beside it, written and synced,
 * renamed over it, and the folder synced, so a crash leaves the old file or the new one,
 * never half of either.
 */
export function writeStateFile(path: string, text: string): void {
  const tmp = `${path}.tmp`; // one agent writes one state file
  try {
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
