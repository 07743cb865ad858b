import { describe, expect, it } from 'vitest';
import { FakeHaproxy, slots } from '../../test/support/fake-haproxy.ts';
import { batchLines, command } from '../core/commands.ts';
import type { Step } from '../core/steps.ts';
import { parseBackend } from '../config/values.ts';
import type { Work } from './decide.ts';
import { SocketWriter } from './writers.ts';

const SERVERS = 900;
const steps = Array.from({ length: SERVERS }, (_, i): Step => ({
  kind: 'set-weight',
  backend: 'be_app',
  server: `srv${String(i + 1)}`,
  weight: 1,
}));
const commands = steps.map((step) => command('be_app', step).text);
// The writer acts on the steps alone: the plan is not read.
const work = [{ spec: parseBackend('be_app=web.svc:80'), steps, plan: null, added: [], deleted: [] }] as unknown as Work[];
const firstLine = batchLines(steps.map((step) => command('be_app', step)))[0]?.length ?? 0;

/** HAProxy with `SERVERS` slots, its socket named as it would be. */
function fake(): FakeHaproxy {
  const haproxy = new FakeHaproxy({ be_app: slots(SERVERS) });
  haproxy.label = '/run/haproxy/admin.sock';
  return haproxy;
}

/** A HAProxy whose socket holds every exchange until `open()`. */
function held(): { haproxy: FakeHaproxy; open: () => void } {
  const haproxy = fake();
  let open = (): void => undefined;
  haproxy.hold = new Promise((resolve) => {
    open = resolve;
  });
  return {
    haproxy,
    open: () => {
      open();
    },
  };
}

describe('SocketWriter', () => {
  it('sends a batch of several lines whole', async () => {
    expect(batchLines(steps.map((step) => command('be_app', step))).length).toBeGreaterThan(2);
    const haproxy = fake();
    const writer = new SocketWriter(new AbortController().signal);
    expect(await writer.act(haproxy.port(), work)).toHaveLength(SERVERS);
    expect(haproxy.writes()).toEqual(commands);
    expect(await writer.settled()).toEqual([]);
  });

  it('halted mid-batch, has the line in flight answered, sends no other, and says how many were not sent', async () => {
    const { haproxy, open } = held();
    const halt = new AbortController();
    const writer = new SocketWriter(halt.signal);
    const acting = writer.act(haproxy.port(), work);
    halt.abort();
    const settled = writer.settled();
    open();
    expect(await acting).toHaveLength(firstLine);
    expect(haproxy.writes()).toEqual(commands.slice(0, firstLine));
    expect(await settled).toEqual([{ socket: '/run/haproxy/admin.sock', notSent: SERVERS - firstLine, unanswered: 0, of: SERVERS }]);
  });

  it('halted while the line in flight fails, counts that line as unanswered', async () => {
    const { haproxy, open } = held();
    const halt = new AbortController();
    const writer = new SocketWriter(halt.signal);
    const acting = writer.act(haproxy.port(), work);
    halt.abort();
    haproxy.unreachable = 'connection closed by HAProxy before it answered';
    open();
    await expect(acting).rejects.toThrow('connection closed');
    expect(await writer.settled()).toEqual([
      { socket: '/run/haproxy/admin.sock', notSent: SERVERS - firstLine, unanswered: firstLine, of: SERVERS },
    ]);
  });
});
