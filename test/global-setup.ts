import { tempRoot } from './support/temp-root.ts';

/**
 * Every temporary file of a test run (HAProxy and BIND directories, sockets, the image
 * check's install) goes under one folder, removed when the run ends: the workers, and the
 * processes they start, inherit TMPDIR.
 */
export default function setup(): () => void {
  // Each vitest project runs this; the first one makes the folder.
  if (process.env['HDA_TEST_TMP'] !== undefined) return () => undefined;
  process.env['HDA_TEST_TMP'] = '1';
  const remove = tempRoot('hda-run-');
  return () => {
    remove();
    delete process.env['HDA_TEST_TMP'];
  };
}
