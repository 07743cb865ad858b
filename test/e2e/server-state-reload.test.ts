import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../support/procs.ts';
import { HAPROXY_MODES, TestHaproxy } from '../support/haproxy.ts';

const gone = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

describe('TestHaproxy: the usual reload, with a server-state-file (Debian HAProxy)', () => {
  const started: TestHaproxy[] = [];
  afterEach(async () => {
    for (const h of started.splice(0)) await h.stop();
  });

  it.each(HAPROXY_MODES)(
    '%s: saves the servers, reloads into a new process that loads them, and stop() leaves no process',
    async (mode) => {
      const haproxy = new TestHaproxy({ frontendPort: await freePort(), slots: 3, stateFile: true, mode });
      started.push(haproxy);
      await haproxy.start();
      await haproxy.command('set server be_app/srv2 addr 127.0.1.9 port 1234');
      const before = await haproxy.pid();

      await haproxy.saveState();
      await haproxy.reload();

      const after = await haproxy.pid();
      expect(after).not.toBe(before);
      expect(readFileSync(haproxy.stateFile, 'utf8')).toMatch(/ srv2 127\.0\.1\.9 .* 1234 /);
      // HAProxy gives a server its port back from the file (its address comes from the config: IP-literal slots).
      expect((await haproxy.servers()).get('srv2')?.port).toBe(1234);
      expect((await haproxy.servers()).get('srv1')?.port).toBe(9);
      // The old process ends once the new one serves (-sf), or the master ends its old worker.
      await waitFor(`the process before the reload (${String(before)}) to end`, () => gone(before));

      await haproxy.stop();
      expect(gone(after)).toBe(true);
    },
  );
});
