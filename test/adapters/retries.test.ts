import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HaproxyUnavailableError } from '../../src/errors.ts';
import { command } from '../../src/core/commands.ts';
import { HaproxyRuntime } from '../../src/haproxy/runtime.ts';
import { FakeHaproxy } from '../support/fake-haproxy.ts';

/**
 * A runtime API that reads each line and never answers, as an overloaded or hung process
 * would: the command may have run. Only what is safe to run twice is sent again.
 */
describe('commands cut off after they were sent', () => {
  const haproxy = new FakeHaproxy();
  haproxy.faults.set('', 'hang');
  const lines = haproxy.lines;
  beforeAll(() => haproxy.start());
  afterAll(() => haproxy.stop());

  const port = (): HaproxyRuntime => new HaproxyRuntime({ kind: 'unix', path: haproxy.socket }, { timeoutMs: 150, retries: 2 });

  it('never sends "add server" or "del server" again blind', async () => {
    lines.length = 0;
    const add = command('be_app', {
      kind: 'add-server',
      backend: 'be_app',
      server: 'srv-a1',
      address: '10.0.0.1',
      port: 80,
      id: 1,
      backup: false,
      check: false,
    });
    const err: unknown = await port()
      .apply([add])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HaproxyUnavailableError);
    expect(lines).toEqual(['add server be_app/srv-a1 10.0.0.1:80 id 1']);
  });

  it('sends "set server" again, which changes nothing when run twice', async () => {
    lines.length = 0;
    await port()
      .apply([command('be_app', { kind: 'set-state', backend: 'be_app', server: 'srv1', state: 'ready' })])
      .catch(() => null);
    expect(lines).toEqual(Array(3).fill('set server be_app/srv1 state ready'));
  });
});
