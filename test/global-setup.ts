import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every temporary file of a test run (HAProxy and BIND directories, sockets, the image
 * check's install) goes under one folder, removed when the run ends: the workers, and the
 * processes they start, inherit TMPDIR.
 */
export default function setup(): () => void {
  // Each vitest project runs this; the first one makes the folder.
  if (process.env['HDA_TEST_TMP'] !== undefined) return () => undefined;
  const root = mkdtempSync(join(tmpdir(), 'hda-run-'));
  process.env['HDA_TEST_TMP'] = root;
  process.env['TMPDIR'] = root;
  return () => {
    rmSync(root, { recursive: true, force: true });
    delete process.env['HDA_TEST_TMP'];
  };
}
