import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IGNORED_SIGNALS } from '../../src/cli/signals.ts';
import { agentArgs, runAgent, TestAgent } from '../support/agent.ts';
import { DnsServer, serviceReply, type Published } from '../support/dns-server.ts';
import { FakeHaproxy } from '../support/fake-haproxy.ts';
import { waitFor } from '../support/procs.ts';

/** Whether `signal` was sent to process `pid` and is held there, blocked, never delivered. */
function held(pid: number, signal: NodeJS.Signals): boolean {
  const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  const pending = BigInt(`0x${/^ShdPnd:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0'}`);
  return (pending & (1n << BigInt(constants.signals[signal] - 1))) !== 0n;
}

/** The exit code, once the process has exited (null when a signal ended it). */
const exitOf = (agent: TestAgent): Promise<number | null> =>
  agent.proc.child.exitCode !== null || agent.proc.child.signalCode !== null
    ? Promise.resolve(agent.proc.child.exitCode)
    : new Promise((resolve) => agent.proc.child.once('exit', resolve));

describe('the built CLI and signals', () => {
  let agent: TestAgent | null = null;
  afterEach(async () => {
    await agent?.stop();
    agent = null;
  });
  // Nothing to reach: the agent keeps running, failing, and says so.
  const args = agentArgs('/nonexistent/admin.sock', '127.0.0.1:9', 'be_app=_http._tcp.web.default.svc.cluster.local');

  it('opens no inspector on SIGUSR1: the signal stays blocked and the agent runs on', async () => {
    const a = new TestAgent(args);
    agent = a;
    await a.waitForLog('starting');
    const pid = a.proc.child.pid ?? 0;
    a.proc.child.kill('SIGUSR1');
    await waitFor(
      () => `SIGUSR1 held (output: ${a.proc.output().slice(-500)})`,
      () => held(pid, 'SIGUSR1'),
    );
    a.proc.child.kill('SIGTERM');
    expect(await exitOf(a)).toBe(0);
    expect(a.proc.output()).not.toMatch(/Debugger|inspector/i);
    expect(a.count('stopped; HAProxy left as it is')).toBe(1);
  });

  it('says in the log that it ignores SIGUSR2, SIGALRM and the other signals that ask nothing of it, and stops on SIGQUIT with exit 0', async () => {
    const a = new TestAgent(args);
    agent = a;
    await a.waitForLog('starting');
    const ignored = IGNORED_SIGNALS.filter((s) => s !== 'SIGUSR1');
    expect(ignored).toEqual(expect.arrayContaining(['SIGUSR2', 'SIGALRM']));
    for (const sig of ignored) {
      a.proc.child.kill(sig);
      await waitFor(
        () => `${sig} said (output: ${a.proc.output().slice(-500)})`,
        () => a.logs().some((l) => l.level === 'warn' && l['signal'] === sig && String(l.msg).startsWith('signal ignored')),
      );
    }
    a.proc.child.kill('SIGQUIT');
    expect(await exitOf(a)).toBe(0);
    const stopping = a.logs().filter((l) => l.msg === 'stopping once the runs in flight end');
    expect(stopping.map((l) => l['signal'])).toEqual(['SIGQUIT']);
    expect(a.logs().find((l) => l.msg === 'stopped; HAProxy left as it is')?.['signal']).toBe('SIGQUIT');
  });
});

describe('the built CLI stopped twice in the middle of a batch', () => {
  const SERVICE = '_http._tcp.web.svc';
  const PODS: Published[] = Array.from({ length: 400 }, (_, i) => ({
    address: `10.2.${String(Math.floor(i / 200))}.${String((i % 200) + 1)}`,
    port: 8080,
    weight: 10,
    priority: 0,
    host: `p${String(i)}.web.svc`,
  }));
  const dns = new DnsServer((q, t) => serviceReply(q, t, SERVICE, PODS));
  const haproxy = new FakeHaproxy('be_app', PODS.length);
  beforeAll(async () => {
    await dns.start();
    await haproxy.start();
  });
  afterAll(async () => {
    await dns.stop();
    await haproxy.stop();
  });

  it('sends no line after the one in flight, names the socket and what was not sent, exits 1, and the next start sends the rest', async () => {
    const args = [
      ...agentArgs(haproxy.socket, `127.0.0.1:${String(dns.port)}`, `be_app=${SERVICE}`),
      '--weights',
      'ignore',
      '--socket-timeout',
      '2s',
    ];
    // The batch's line holding srv1's address gets no answer until the fault is lifted.
    const first = 'set server be_app/srv1 addr';
    haproxy.faults.set(first, 'hang');
    const a = new TestAgent(args);
    try {
      await waitFor('the line in flight', () => haproxy.received.some((c) => c.startsWith(first)), 15_000);
      a.proc.child.kill('SIGTERM');
      await a.waitForLog('stopping once the runs in flight end');
      a.proc.child.kill('SIGTERM');
      await a.waitForLog(/^stopping now/);
      haproxy.faults.delete(first); // the line's retry is answered
      expect(await exitOf(a)).toBe(1);
    } finally {
      haproxy.faults.delete(first);
      await a.stop();
    }
    const lines = a.proc
      .output()
      .split('\n')
      .filter((l) => l.startsWith('haproxy-dns-agent: '));
    expect(lines).toHaveLength(1);
    const m =
      /^haproxy-dns-agent: stopped by a second SIGTERM: HAProxy socket (\S+): (\d+) of (\d+) commands not sent(?:, (\d+) sent without an answer)?; the next start sends what is still needed$/.exec(
        lines[0] ?? '',
      );
    expect(m?.[1]).toBe(haproxy.socket);
    const [notSent, of, unanswered] = [Number(m?.[2]), Number(m?.[3]), Number(m?.[4] ?? 0)];
    expect(of).toBe(2 * PODS.length); // addr and state ready for each pod
    expect(notSent).toBeGreaterThan(0);
    // HAProxy saw nothing of the lines not sent.
    const received = new Set(haproxy.received.filter((c) => /^set server be_app\/srv\d+ (addr|state) /.test(c)));
    expect(received.size).toBeLessThanOrEqual(of - notSent);
    expect(received.size).toBeGreaterThanOrEqual(of - notSent - unanswered);
    expect(haproxy.ready().length).toBeLessThan(PODS.length);

    const again = await runAgent(['--once', ...args]);
    expect(again.code, again.stderr).toBe(0);
    expect(haproxy.ready()).toHaveLength(PODS.length);
  }, 60_000);
});
