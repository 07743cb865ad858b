import { afterEach, describe, expect, it } from 'vitest';
import { HaproxyProtocolError } from '../../src/errors.ts';
import { command } from '../../src/core/commands.ts';
import { READS } from '../../src/haproxy/requests.ts';
import { HaproxyRuntime } from '../../src/haproxy/runtime.ts';
import { exchange } from '../../src/haproxy/socket.ts';
import { FakeHaproxy, slot } from '../support/fake-haproxy.ts';

const started: FakeHaproxy[] = [];
afterEach(async () => {
  for (const h of started.splice(0)) await h.stop();
});

/** The fake HAProxy `version` of `be_app` (srv1, and srv-a2 in maintenance), listening on its socket. */
async function listening(version: string): Promise<FakeHaproxy> {
  const h = new FakeHaproxy({ be_app: [slot('srv1'), slot('srv-a2')] });
  h.version = version;
  h.pid = 7;
  await h.start();
  started.push(h);
  return h;
}

const runtimeOf = (h: FakeHaproxy, timeoutMs = 2_000): HaproxyRuntime =>
  new HaproxyRuntime({ kind: 'unix', path: h.socket }, { timeoutMs, retries: 0 });

describe('a runtime-API peer that answers without end', () => {
  it('is read up to a bound derived from what was asked, then left with a soft error naming the bound', async () => {
    const h = await listening('2.6.12');
    h.faults.set('show info', 'flood');
    const bound = READS.info.maxBytes + READS.state('be_app').maxBytes;
    expect(bound).toBe((64 << 10) + (4 << 20));
    const err: unknown = await exchange({ kind: 'unix', path: h.socket }, 'show info;show servers state be_app', 10_000, bound).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HaproxyProtocolError);
    expect((err as HaproxyProtocolError).soft).toBe(true);
    expect((err as Error).message).toContain(`reply larger than ${String(bound)} bytes`);
    expect(h.flooded).toBeLessThan(bound * 4);
  });

  it('makes the port report it as a soft error, not read 300 MB', async () => {
    const h = await listening('2.6.12');
    h.faults.set('show info', 'flood');
    await expect(runtimeOf(h, 10_000).observe(['be_app'])).rejects.toThrow(/reply larger than \d+ bytes/);
  });
});

describe('add and del server on the wire', () => {
  const add = command('be_app', {
    kind: 'add-server',
    backend: 'be_app',
    server: 'srv-a1',
    address: '10.0.0.1',
    port: 80,
    id: 1001,
    backup: false,
    check: false,
  });

  it('turns experimental mode on first on 2.4 and 2.5, and never leaves "del server" last on a line', async () => {
    const h = await listening('2.4.22');
    const port = runtimeOf(h);
    await port.observe(['be_app']);
    const results = await port.apply([add, command('be_app', { kind: 'del-server', backend: 'be_app', server: 'srv-a2' })]);
    // 2.4: each add server is followed by a command that always answers (its reply lacks its newline).
    expect(h.lines.at(-1)).toBe(
      'experimental-mode on;add server be_app/srv-a1 10.0.0.1:80 id 1001;show cli level;del server be_app/srv-a2;show cli level',
    );
    expect(results.map((r) => [r.text, r.verdict.ok])).toEqual([
      ['add server be_app/srv-a1 10.0.0.1:80 id 1001', true],
      ['del server be_app/srv-a2', true],
    ]);
  });

  it('sends add server alone from 2.6', async () => {
    const h = await listening('2.6.12');
    const port = runtimeOf(h);
    await port.observe(['be_app']);
    await port.apply([add]);
    expect(h.lines.at(-1)).toBe('add server be_app/srv-a1 10.0.0.1:80 id 1001');
  });
});

describe('reading a HAProxy process the port has not read before', () => {
  it('asks its show stat (and, from 2.0, its level) on the line that reads it: a new process is filled in two exchanges, not four', async () => {
    const h = await listening('2.6.0-1+distro1');
    const port = runtimeOf(h);
    const first = await port.observe(['be_app']);
    expect(first.backends.get('be_app')?.facts.cookieName).toBe('SRVID');
    await port.isAdmin(first.info); // the version was not known before that read: the level is asked apart
    await port.observe(['be_app']);
    expect(h.lines.splice(0)).toEqual([
      'show info;show servers state be_app;show stat be_app 6 -1',
      'show cli level',
      'show info;show servers state be_app',
    ]);
    h.pid = 8; // a reload
    const info = await port.info();
    const next = await port.observe(['be_app']);
    expect([next.info.pid, await port.isAdmin(info)]).toEqual([8, true]);
    expect(h.lines.splice(0)).toEqual(['show info', 'show info;show servers state be_app;show stat be_app 6 -1;show cli level']);
  });
});
