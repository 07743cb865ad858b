import { describe, expect, it } from 'vitest';
import { captureLogs } from '../../test/support/logs.ts';
import { Reporter } from '../agent/report.ts';
import { EMPTY, type SocketReport } from '../agent/socket-report.ts';
import type { Finding } from '../core/findings.ts';
import type { Step } from '../core/steps.ts';
import { judgeReply } from '../haproxy/replies.ts';
import { MAX_SERVER_STATE_BYTES, type ServerStateDump } from '../haproxy/server-state.ts';
import { ServerStateFile, type ServerStateOutcome } from './server-state.ts';

const HEADER = '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state';
const dumpOf = (...rows: string[]): string => `1\n${HEADER}\n${rows.join('\n')}\n\n`;

type Run = Partial<Pick<SocketReport, 'results' | 'reload' | 'findings'>> & { socket?: string };

/** A socket lane's report: at rest (nothing sent, same process) unless told. */
function report(r: Run = {}): SocketReport {
  return { lane: 'socket', ...EMPTY, socket: r.socket ?? 'a.sock', durationMs: 1, ...r };
}
const READY: Step = { kind: 'set-state', backend: 'be_app', server: 'srv1', state: 'ready' };
const SENT = {
  results: [{ backend: 'be_app', step: READY, text: 'set server be_app/srv1 state ready', reply: '', verdict: judgeReply(READY, '') }],
};
const RELOADED = { reload: { reason: 'new pid', version: '2.6.12' } };
const UNREACHABLE: Finding = { kind: 'haproxy-unreachable', socket: 'a.sock', detail: 'connection refused' };

/** A keeper over an in-memory file and HAProxys that answer `dumps[socket]`, with a clock the test moves. */
function harness(o: { sockets?: string[]; retryMs?: number } = {}) {
  const sockets = o.sockets ?? ['a.sock'];
  const dumps = new Map<string, ServerStateDump>(
    sockets.map((s) => [s, { text: dumpOf(`3 be_app 1 srv1 10.0.0.1 2 0 (${s})`), header: HEADER }]),
  );
  const asked: string[] = [];
  const outcomes: ServerStateOutcome[] = [];
  const disk = { file: null as string | null, writes: 0, fail: null as Error | null };
  const clock = { now: 1_000 };
  const keeper = new ServerStateFile({
    sockets,
    dump: async (socket) => {
      asked.push(socket);
      await Promise.resolve();
      return dumps.get(socket) ?? { problem: 'no such socket' };
    },
    write: (text) => {
      if (disk.fail !== null) throw disk.fail;
      disk.file = text;
      disk.writes++;
    },
    present: () => disk.file !== null,
    now: () => clock.now,
    retryMs: o.retryMs ?? 10_000,
    said: (outcome) => outcomes.push(outcome),
  });
  return { keeper, dumps, asked, outcomes, disk, clock };
}

describe("ServerStateFile: when HAProxy's dump is written", () => {
  it('writes at the first run, then after each run that sent commands or met a new process, and never at rest', async () => {
    const h = harness();
    await h.keeper.afterRun(report()); // first run: whatever the file holds, this agent has not written it
    expect(h.disk.file).toBe(dumpOf('3 be_app 1 srv1 10.0.0.1 2 0 (a.sock)'));
    for (let i = 0; i < 5; i++) await h.keeper.afterRun(report());
    expect(h.asked).toHaveLength(1); // at rest: no dump asked, nothing written
    await h.keeper.afterRun(report(SENT));
    await h.keeper.afterRun(report(RELOADED));
    expect(h.asked).toHaveLength(3);
    expect(h.disk.writes).toBe(3);
    expect(h.outcomes.at(-1)).toEqual({ written: { socket: 'a.sock', bytes: Buffer.byteLength(h.disk.file ?? '') } });
  });

  it('writes again at rest when the file went missing', async () => {
    const h = harness();
    await h.keeper.afterRun(report());
    h.disk.file = null;
    await h.keeper.afterRun(report());
    expect(h.disk.writes).toBe(2);
  });

  it('asks nothing after a run that did not reach HAProxy, unless that run sent commands', async () => {
    const h = harness();
    await h.keeper.afterRun(report({ findings: [UNREACHABLE] }));
    expect(h.asked).toEqual([]);
    await h.keeper.afterRun(report({ ...SENT, findings: [UNREACHABLE] }));
    expect(h.asked).toEqual(['a.sock']);
  });

  it('says a failed write, leaves the file as it was, tries again at the next change or after retryMs at rest', async () => {
    const h = harness({ retryMs: 10_000 });
    await h.keeper.afterRun(report());
    const before = h.disk.file;
    h.disk.fail = new Error('EACCES: permission denied');
    await h.keeper.afterRun(report(SENT));
    expect(h.outcomes.at(-1)).toEqual({ problem: 'EACCES: permission denied' });
    expect(h.disk.file).toBe(before);
    h.clock.now += 9_999;
    await h.keeper.afterRun(report());
    expect(h.asked).toHaveLength(2); // at rest, within retryMs: not tried again
    h.clock.now += 1;
    await h.keeper.afterRun(report());
    expect(h.asked).toHaveLength(3);
    h.disk.fail = null;
    await h.keeper.afterRun(report(SENT)); // a change: at once
    expect(h.outcomes.at(-1)).toMatchObject({ written: { socket: 'a.sock' } });
    await h.keeper.afterRun(report());
    expect(h.asked).toHaveLength(4); // written: at rest again
  });

  it('says what HAProxy answered instead of a dump, and writes nothing', async () => {
    const h = harness();
    h.dumps.set('a.sock', {
      problem: 'HAProxy socket a.sock: show servers state answered more than 8388608 bytes, the most this agent writes',
    });
    await h.keeper.afterRun(report(SENT));
    expect(h.disk.file).toBeNull();
    expect(h.outcomes).toEqual([{ problem: expect.stringMatching(/more than 8388608 bytes/) as string }]);
  });

  it('with several sockets, writes one file: each backend from the first socket that shows it, each socket read after its own run', async () => {
    const h = harness({ sockets: ['a.sock', 'b.sock'] });
    h.dumps.set('b.sock', { text: dumpOf('3 be_app 1 srv1 10.0.0.1 2 0 (b)', '4 be_b 1 x 10.0.9.9 2 0 (b)'), header: HEADER });
    await h.keeper.afterRun(report({ socket: 'b.sock' }));
    expect(h.disk.file).toBe(dumpOf('3 be_app 1 srv1 10.0.0.1 2 0 (b)', '4 be_b 1 x 10.0.9.9 2 0 (b)'));
    await h.keeper.afterRun(report({ socket: 'a.sock' }));
    expect(h.asked).toEqual(['b.sock', 'a.sock']);
    expect(h.disk.file).toBe(dumpOf('3 be_app 1 srv1 10.0.0.1 2 0 (a.sock)', '4 be_b 1 x 10.0.9.9 2 0 (b)'));
    // A process reloaded into a release with another layout: the other's older dump is left out until its own run.
    const other = '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_new';
    h.dumps.set('a.sock', { text: `1\n${other}\n3 be_app 1 srv1 10.0.0.1 2 0 0\n\n`, header: other });
    await h.keeper.afterRun(report({ socket: 'a.sock', ...RELOADED }));
    expect(h.disk.file).toBe(`1\n${other}\n3 be_app 1 srv1 10.0.0.1 2 0 0\n\n`);
  });

  it('refuses to write what the dumps of several sockets make past the bound', async () => {
    const h = harness({ sockets: ['a.sock', 'b.sock'] });
    const big = (backend: string): string => dumpOf(`3 ${backend} 1 srv1 ${'1'.repeat(MAX_SERVER_STATE_BYTES / 2)} 2 0`);
    h.dumps.set('a.sock', { text: big('be_a'), header: HEADER });
    h.dumps.set('b.sock', { text: big('be_b'), header: HEADER });
    await h.keeper.afterRun(report({ socket: 'a.sock' }));
    expect(h.disk.writes).toBe(1);
    await h.keeper.afterRun(report({ socket: 'b.sock' }));
    expect(h.disk.writes).toBe(1);
    expect(h.outcomes.at(-1)).toEqual({
      problem: expect.stringMatching(/^the dumps of 2 sockets make \d+ bytes, more than the 8388608 this agent writes$/) as string,
    });
  });
});

describe('Reporter.serverStateFile: a problem said once per change', () => {
  it('warns when the file is not written, once while the problem stays, and says when it is written again', () => {
    const logs = captureLogs('debug');
    const reporter = new Reporter(logs.log, null);
    const path = '/run/haproxy/server-state';
    const notWritten = 'server state file not written: a reload now starts from the one written before';
    reporter.serverStateFile(path, { written: { socket: 'a.sock', bytes: 10 } });
    for (let i = 0; i < 3; i++) reporter.serverStateFile(path, { problem: 'EACCES: permission denied' });
    reporter.serverStateFile(path, { problem: 'ENOSPC: no space left on device' });
    reporter.serverStateFile(path, { written: { socket: 'a.sock', bytes: 12 } });
    reporter.serverStateFile(path, { written: { socket: 'a.sock', bytes: 12 } });
    expect(logs.lines().map((l) => [l.level, l.msg, l['problem'] ?? l['bytes']])).toEqual([
      ['debug', 'server state file written', 10],
      ['warn', notWritten, 'EACCES: permission denied'],
      ['warn', notWritten, 'ENOSPC: no space left on device'],
      ['info', 'server state file written again', 12],
      ['debug', 'server state file written', 12],
    ]);
    expect(logs.lines()[1]).toMatchObject({ serverStateFile: path });
  });
});
