import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Points TMPDIR at a new folder, so that every temporary file of this process and the
 * processes it starts (HAProxy and BIND folders, sockets) lands there; returns what
 * removes it.
 */
export function tempRoot(prefix: string): () => void {
  const root = mkdtempSync(join(tmpdir(), prefix));
  process.env['TMPDIR'] = root;
  return () => {
    rmSync(root, { recursive: true, force: true });
  };
}
