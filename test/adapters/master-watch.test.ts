import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MasterWatch } from '../../src/haproxy/master.ts';
import { waitFor } from '../support/procs.ts';

/** A peer on a UNIX socket that answers `prompt` with `promptText`, and keeps every connection until told. */
class FakeMaster {
  readonly conns = new Set<net.Socket>();
  readonly lines: string[] = [];
  readonly #server: net.Server;

  constructor(promptText: string) {
    this.#server = net.createServer((c) => {
      this.conns.add(c);
      c.on('close', () => this.conns.delete(c));
      c.on('error', () => undefined);
      c.on('data', (d: Buffer) => {
        this.lines.push(d.toString());
        c.write(promptText);
      });
    });
  }

  listen(path: string): Promise<void> {
    return new Promise((r) => this.#server.listen(path, r));
  }

  /** What a reload does to the master's CLI: every connection closed. */
  reload(): void {
    for (const c of this.conns) c.destroy();
  }

  close(): Promise<void> {
    this.reload();
    return new Promise((r) => {
      this.#server.close(() => {
        r();
      });
    });
  }
}

describe("the held connection to HAProxy's master CLI (--master-socket)", () => {
  const root = mkdtempSync(join(tmpdir(), 'hda-master-'));
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  const watch = (path: string) => {
    const events = { reloaded: 0, states: [] as (string | null)[] };
    const w = new MasterWatch(
      { kind: 'unix', path },
      {
        reloaded: () => events.reloaded++,
        state: (p) => {
          events.states.push(p);
        },
      },
      { retryMaxMs: 200 },
    );
    cleanup.push(() => {
      w.close();
    });
    return { w, events };
  };

  it('holds one connection in prompt mode, says nothing more, and hears the master close it (a reload), then holds a new one', async () => {
    const path = join(mkdtempSync(join(root, 'a-')), 'master.sock');
    const master = new FakeMaster('master> ');
    await master.listen(path);
    cleanup.push(() => master.close());
    const { w, events } = watch(path);
    w.start();
    await waitFor('the prompt', () => events.states.length > 0);
    expect(events.states).toEqual([null]);
    await delay(200);
    expect([master.lines, master.conns.size, events.reloaded]).toEqual([['prompt\n'], 1, 0]); // idle: no traffic at rest
    master.reload();
    await waitFor('the close heard', () => events.reloaded === 1);
    // Held again: the master may have reloaded again while none was, so that is said too.
    await waitFor('a new connection held', () => events.states.length === 2 && master.conns.size === 1);
    expect([events.states, events.reloaded]).toEqual([[null, null], 2]);
  });

  it("says a worker's stats socket is not the master CLI, and lets it go: a held connection would keep an old worker alive", async () => {
    const path = join(mkdtempSync(join(root, 'b-')), 'admin.sock');
    const worker = new FakeMaster('\n> ');
    await worker.listen(path);
    cleanup.push(() => worker.close());
    const { w, events } = watch(path);
    w.start();
    await waitFor('the problem', () => events.states.length > 0);
    expect(events.states[0]).toMatch(/answered "\\n> ": expected the master CLI's prompt "master> "/);
    await waitFor('the connection let go', () => worker.conns.size === 0);
    expect(events.reloaded).toBe(0);
  });

  it('retries a master that is not there yet, less and less often, and holds it once it is', async () => {
    const path = join(mkdtempSync(join(root, 'c-')), 'master.sock');
    const { w, events } = watch(path);
    w.start();
    await waitFor('the problem', () => events.states.length > 0);
    expect(events.states[0]).toMatch(/master\.sock: ENOENT$/);
    const master = new FakeMaster('master[ReloadFailed]> ');
    await master.listen(path);
    cleanup.push(() => master.close());
    await waitFor('the master held', () => events.states.includes(null));
    expect(events.reloaded).toBe(0); // none was held before: nothing was missed
  });
});
