import { afterEach, describe, expect, it } from 'vitest';
import { judgeResults } from '../../src/agent/decide.ts';
import { command } from '../../src/core/commands.ts';
import type { Step } from '../../src/core/steps.ts';
import { HaproxyRuntime } from '../../src/haproxy/runtime.ts';
import { FakeHaproxy, slot } from '../support/fake-haproxy.ts';

const started: FakeHaproxy[] = [];
afterEach(async () => {
  for (const h of started.splice(0)) await h.stop();
});

/** The fake HAProxy `version` of `be_app` (one slot, srv1), listening on its socket, and the runtime client over it. */
async function listening(version: string, servers = [slot('srv1')]): Promise<{ haproxy: FakeHaproxy; port: HaproxyRuntime }> {
  const haproxy = new FakeHaproxy({ be_app: servers });
  haproxy.version = version;
  await haproxy.start();
  started.push(haproxy);
  return { haproxy, port: new HaproxyRuntime({ kind: 'unix', path: haproxy.socket }, { timeoutMs: 2_000, retries: 0 }) };
}

/** How many times `show stat` was asked. */
const statReads = (h: FakeHaproxy): number => h.received.filter((c) => c.startsWith('show stat')).length;

/** `add server` of `server` on `address`:8080 in be_app, its id 1000 and the server's number unless given. */
const addStep = (server: string, address: string, o: { backup?: boolean; check?: boolean; id?: number } = {}): Step => ({
  kind: 'add-server',
  backend: 'be_app',
  server,
  address,
  port: 8080,
  id: o.id ?? 1000 + Number(server.replace(/\D/g, '')),
  backup: o.backup === true,
  check: o.check === true,
});

describe('the backup flag of a server added at run time', () => {
  it('is read from show stat again when the state names a server show stat did not, and only then', async () => {
    const { haproxy, port } = await listening('2.6.12');
    await port.observe(['be_app']);
    await port.observe(['be_app']);
    expect(statReads(haproxy)).toBe(1); // once per process
    await port.apply([command('be_app', addStep('srv-a1', '10.0.0.3', { backup: true }))]);
    const snap = await port.observe(['be_app']);
    expect([...(snap.backends.get('be_app')?.facts.backup ?? [])]).toEqual(['srv-a1']);
    await port.observe(['be_app']);
    expect(statReads(haproxy)).toBe(2);
  });

  it('is read again when a server was deleted and another of its name added, as a backup this time', async () => {
    const { port } = await listening('2.6.12', [slot('srv1'), slot('srv-a1', { id: 1001 })]);
    await port.observe(['be_app']);
    await port.apply([command('be_app', { kind: 'del-server', backend: 'be_app', server: 'srv-a1' })]);
    await port.observe(['be_app']); // the server gone
    await port.apply([command('be_app', addStep('srv-a1', '10.0.0.3', { backup: true }))]);
    const snap = await port.observe(['be_app']);
    expect([...(snap.backends.get('be_app')?.facts.backup ?? [])]).toEqual(['srv-a1']);
  });
});

describe('a batch on HAProxy 2.4.0, which refuses check on an added server', () => {
  it('judges the refused command on its own and still reads the replies of the others', async () => {
    const { port } = await listening('2.4.0');
    await port.observe(['be_app']);
    const steps: Step[] = [
      addStep('srv-a1', '10.0.0.2', { check: true }),
      { kind: 'set-weight', backend: 'be_app', server: 'srv-a1', weight: 256 },
      { kind: 'enable-health', backend: 'be_app', server: 'srv-a1' },
      { kind: 'set-state', backend: 'be_app', server: 'srv-a1', state: 'ready' },
      addStep('srv-a2', '10.0.0.3'),
      { kind: 'set-state', backend: 'be_app', server: 'srv-a2', state: 'ready' },
    ];
    const commands = steps.map((step) => command('be_app', step).text);
    const results = await port.apply(steps.map((step) => command('be_app', step)));
    expect(results.map((r) => [r.text, r.reply, r.verdict.ok])).toEqual([
      [commands[0], "'check' option is not accepted for dynamic server", false],
      [commands[1], 'No such server.', false],
      [commands[2], 'No such server.', false],
      [commands[3], 'No such server.', false],
      [commands[4], 'New server registered.', true],
      [commands[5], '', true],
    ]);
    expect(judgeResults('memory', results).findings[0]).toEqual({
      kind: 'command-rejected',
      backend: 'be_app',
      socket: 'memory',
      command: commands[0],
      reply: "'check' option is not accepted for dynamic server",
    });
  });

  it('never leaves add server last on a line, where its reply could not be framed', async () => {
    const { haproxy, port } = await listening('2.4.0');
    await port.observe(['be_app']);
    const [result] = await port.apply([command('be_app', addStep('srv-a3', '10.0.0.4', { check: true }))]);
    expect(haproxy.lines.at(-1)).toBe('experimental-mode on;add server be_app/srv-a3 10.0.0.4:8080 id 1003 check;show cli level');
    expect(result?.verdict.ok).toBe(false);
  });
});
