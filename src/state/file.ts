import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  openSync,
  opendirSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
  type Dir,
  type Stats,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomId } from '../dns/ids.ts';

/*
 * The state file lives in a folder that others may write (the emptyDir shared with
 * HAProxy's container), so nothing there is trusted, as mkstemp and O_NOFOLLOW do it: the
 * path is opened without following a symbolic link and without waiting on a FIFO, only a
 * regular file of a bounded size is read, and the file is replaced through a temporary
 * file of an unguessable name that this agent alone created.
 */

/**
 * The state file's text, null when there is none. Anything else that keeps it from being
 * read is the error, for a warning: a symbolic link, a FIFO, a device or a folder at the
 * path (refused, never opened for reading in a way that can block), or a file larger than
 * `maxBytes` (refused, not read).
 */
export function readStateFile(path: string, maxBytes: number): string | null | Error {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') return new Error('a symbolic link; refused (expected a regular file: a link is not followed)');
    if (code === 'ENXIO') return new Error('a socket; refused (expected a regular file)');
    return asError(err);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return new Error(`${kindOf(stats)}; refused (expected a regular file)`);
    if (stats.size > maxBytes) return tooLarge(`${String(stats.size)} bytes`, maxBytes);
    // One byte more than fstat said (so never more than maxBytes + 1): a file that grows
    // while it is read is being written by someone else, in place.
    const buf = Buffer.allocUnsafe(stats.size + 1);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    if (n > stats.size) return new Error('grew while it was read; refused');
    return buf.toString('utf8', 0, n);
  } catch (err) {
    return asError(err);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces the file's content atomically: a temporary file beside it, with a name no one
 * can guess and created only if nothing is there (O_EXCL, O_NOFOLLOW: never through a
 * planted link), written and synced, renamed over the path, and the folder synced, so a
 * crash leaves the old file or the new one, never half of either. On any failure the
 * temporary file is removed and the error thrown. `mode`: the file's permissions (0600:
 * the agent's alone; 0640 for a file HAProxy reads, through the folder's group).
 */
export function writeStateFile(path: string, text: string, mode = 0o600): void {
  const { fd, tmp } = createTemporary(path, mode);
  try {
    try {
      const bytes = Buffer.from(text);
      for (let n = 0; n < bytes.length;) n += writeSync(fd, bytes, n);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp); // what is at that name now, a link itself and never what it points at
    } catch {
      // gone already
    }
    throw err;
  }
  const dir = openSync(dirname(path), constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/**
 * Removes the temporary files a crash between create and rename left beside the state
 * file (their name's exact pattern, regular files only), among the folder's first
 * 10,000 entries (it holds a socket and a few files). Returns how many; a folder that
 * cannot be listed is none.
 */
export function removeLeftoverTemporaries(path: string): number {
  const pattern = new RegExp(`^\\.${escapeRegExp(basename(path))}\\.[0-9a-f]{16}\\.tmp$`);
  let dir: Dir;
  try {
    dir = opendirSync(dirname(path));
  } catch {
    return 0;
  }
  let removed = 0;
  try {
    for (let seen = 0; seen < MAX_FOLDER_ENTRIES; seen++) {
      const entry = dir.readSync();
      if (entry === null) break;
      if (!pattern.test(entry.name)) continue;
      const file = join(dirname(path), entry.name);
      try {
        if (!lstatSync(file).isFile()) continue;
        unlinkSync(file);
        removed++;
      } catch {
        // gone meanwhile, or not ours to remove: left as it is
      }
    }
  } catch {
    // the folder went away while listed: what was removed is removed
  } finally {
    dir.closeSync();
  }
  return removed;
}

const MAX_FOLDER_ENTRIES = 10_000;

/** `.<name>.<16 hex digits>.tmp` beside the path, created with `mode` by this call and no other. */
function createTemporary(path: string, mode: number): { fd: number; tmp: string } {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  for (let attempt = 1; ; attempt++) {
    const tmp = join(dirname(path), `.${basename(path)}.${randomHex()}.tmp`);
    try {
      return { fd: openSync(tmp, flags, mode), tmp };
    } catch (err) {
      // A name taken already (64 random bits: someone else's file): another name, a few times.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt === 3) throw err;
    }
  }
}

/** 64 bits from the kernel's random source, as hex (the DNS IDs' pool: no OpenSSL loaded for it). */
const randomHex = (): string => Array.from({ length: 4 }, () => randomId().toString(16).padStart(4, '0')).join('');

/** What a file that is not a regular one is, for a refusal's line. */
export function kindOf(s: Stats): string {
  if (s.isFIFO()) return 'a FIFO';
  if (s.isDirectory()) return 'a folder';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

const tooLarge = (size: string, maxBytes: number): Error =>
  new Error(`${size}, more than the ${String(maxBytes)} this agent can have written; refused, not read`);

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
