/** BIND as the tests run it (test/support/bind.ts), with options of its own added. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestBind } from '../test/support/bind.ts';
import { startProc, waitFor } from '../test/support/procs.ts';

/**
 * A TestBind whose `options` block has more lines (e.g. `tcp-clients 1000;`): started as
 * TestBind starts it, then once more on the same port and zone with the lines added, since
 * named reads its options once.
 */
export class BindWith extends TestBind {
  readonly #lines: readonly string[];

  constructor(lines: readonly string[]) {
    super();
    this.#lines = lines;
  }

  override async start(port?: number): Promise<void> {
    await super.start(port);
    const conf = join(this.dir, 'named.conf');
    const text = readFileSync(conf, 'utf8');
    if (!text.includes('options {\n')) throw new Error(`BindWith: no options block in ${conf}`);
    writeFileSync(conf, text.replace('options {\n', `options {\n${this.#lines.map((l) => `  ${l}\n`).join('')}`));
    await this.stop();
    const proc = startProc('named', ['-g', '-n', '1', '-c', conf]);
    this.proc = proc;
    await waitFor(`named on port ${String(this.port)} (output: ${proc.output().slice(-500)})`, () => proc.output().includes('running'));
  }
}
