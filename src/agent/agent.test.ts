import { afterEach, describe, expect, it, vi } from 'vitest';
import { agentHarness, SRV, type HarnessOptions } from '../../test/support/agent-harness.ts';
import { ADMIN, FakeHaproxy, slots, stateOf, type FakeServer } from '../../test/support/fake-haproxy.ts';
import { parseBackend } from '../config/values.ts';
import { addedServerId } from '../core/dynamic.ts';
import type { SavedState } from '../core/saved-state.ts';
import type { Endpoint } from '../core/types.ts';
import { DnsError, HaproxyConfigError } from '../errors.ts';
import type { Agent } from './agent.ts';
import { readiness } from './health.ts';
import { SocketWriter } from './writers.ts';

/** The socket writer, counting the runs that planned work and handed it over. */
class CountingWriter extends SocketWriter {
  acts = 0;
  override act(...args: Parameters<SocketWriter['act']>): ReturnType<SocketWriter['act']> {
    this.acts++;
    return super.act(...args);
  }
}

const pods = (from: number, n: number, port = 8080): Endpoint[] =>
  Array.from({ length: n }, (_, i) => ({
    target: `pod-${String(from + i)}.web`,
    address: `10.1.0.${String(from + i)}`,
    port,
    weight: 10,
    priority: 0,
    ttl: 5,
  }));

/** One endpoint at `address` (pod 9's name and port). */
const at = (address: string): Endpoint => ({ target: 'pod-9.web', address, port: 8080, weight: 10, priority: 0, ttl: 5 });

/** HAProxy 2.6 (unless told) with `be_app` of 5 slots (unless told), its socket named `label`, its process pid 100. */
function haproxy(backends: Record<string, FakeServer[]> = { be_app: slots(5) }, label = 'memory', version = '2.6.12'): FakeHaproxy {
  const h = new FakeHaproxy(backends);
  h.label = label;
  h.version = version;
  h.pid = 100;
  return h;
}

const setup = (haproxies: FakeHaproxy[], backends?: HarnessOptions['backends'], o: HarnessOptions = {}) =>
  agentHarness(haproxies, { ...o, ...(backends === undefined ? {} : { backends }) });

describe('a pass, against an in-memory HAProxy', () => {
  /** What 1.8 is sent before anything else: its level is told only by a write, a weight set to what it is. */
  const probeOn = (version: string): string[] => (version === '1.8.30' ? ['set server be_app/srv1 weight 1'] : []);

  it.each(['2.6.12', '1.8.30'])('fills the slots on %s with the exact command script, then sends nothing', async (version) => {
    const h = haproxy(undefined, 'memory', version);
    const { agent, dns, logs } = setup([h]);
    dns.answers.set(SRV, pods(1, 2));
    expect((await agent.pass()).ok).toBe(true);
    expect(h.sets()).toEqual([
      ...probeOn(version),
      'set server be_app/srv1 addr 10.1.0.1 port 8080',
      'set server be_app/srv1 weight 256',
      'set server be_app/srv1 state ready',
      'set server be_app/srv2 addr 10.1.0.2 port 8080',
      'set server be_app/srv2 weight 256',
      'set server be_app/srv2 state ready',
    ]);
    expect(logs.count('server change')).toBe(2);
    const sent = h.writes().length;
    await agent.pass();
    await agent.pass();
    expect(h.writes().length).toBe(sent);
  });

  it('holds the endpoints through a DNS failure, reports it as a problem, and logs it once', async () => {
    const h = haproxy();
    const { agent, dns, logs, clock } = setup([h]);
    dns.answers.set(SRV, pods(1, 3));
    await agent.pass();
    dns.answers.set(SRV, new DnsError('timeout', 'no answer'));
    for (let i = 0; i < 3; i++) {
      clock.now += 10_000;
      const r = await agent.pass();
      expect(r.ok).toBe(false);
      expect(r.findings.map((f) => f.kind)).toEqual(['dns-failing']);
    }
    expect(h.ready()).toEqual(['10.1.0.1:8080', '10.1.0.2:8080', '10.1.0.3:8080']);
    expect(logs.count('DNS failing: holding the last good answer')).toBe(1);
  });

  it('leaves HAProxy alone before DNS ever answered, and says so once', async () => {
    const h = haproxy();
    const { agent, dns, logs } = setup([h]);
    dns.answers.set(SRV, new DnsError('timeout', 'no answer'));
    const r1 = await agent.pass();
    await agent.pass();
    expect(r1.findings.map((f) => f.kind)).toEqual(['dns-failing', 'no-answer-yet']);
    expect(h.sets()).toEqual([]);
    expect(logs.count('DNS failing, and no answer to hold yet')).toBe(1);
    expect(logs.count('DNS failing: holding the last good answer')).toBe(0);
    expect(logs.count('backend be_app: no DNS answer yet; HAProxy left as it is')).toBe(1);
  });

  it.each(['2.6.12', '1.8.30'])('pushes every server again after %s restarts, and logs the reload once', async (version) => {
    const h = haproxy(undefined, 'memory', version);
    const { agent, dns, logs } = setup([h]);
    dns.answers.set(SRV, pods(1, 2));
    await agent.pass();
    h.restart();
    const before = h.sets().length;
    expect((await agent.pass()).ok).toBe(true);
    expect(h.ready()).toEqual(['10.1.0.1:8080', '10.1.0.2:8080']);
    // The level asked again (a new process), then addr, weight and state of each.
    expect(h.sets().length - before).toBe(probeOn(version).length + 6);
    expect(logs.count('HAProxy reloaded or restarted: pushing every managed server again')).toBe(1);
  });

  it('tags a rejected command with its backend; the other backend still counts as matched', async () => {
    const h = haproxy({ be_a: slots(3), be_b: slots(3) });
    const { agent, dns, logs } = setup([h], [parseBackend('be_a=a.svc:80'), parseBackend('be_b=b.svc:80')]);
    dns.answers.set('a.svc', pods(1, 1, 80));
    dns.answers.set('b.svc', pods(5, 1, 80));
    h.replies.set('set server be_b/srv1 state ready', 'Unknown command.\n');
    const r = await agent.pass();
    expect(r.findings).toEqual([
      {
        kind: 'command-rejected',
        backend: 'be_b',
        socket: 'memory',
        command: 'set server be_b/srv1 state ready',
        reply: 'Unknown command.',
      },
      { kind: 'not-taken', backend: 'be_b', socket: 'memory', servers: ['srv1'] },
    ]);
    expect([...(agent.status(1_000_000).sockets[0]?.settled ?? [])]).toEqual(['be_a']);
    expect(
      logs
        .lines()
        .filter((l) => l.msg === 'HAProxy rejected a command')
        .map((l) => l['backend']),
    ).toEqual(['be_b']);
  });

  it('reports servers that did not take their change, and repairs them on a later pass', async () => {
    const h = haproxy();
    const { agent, dns } = setup([h]);
    dns.answers.set(SRV, pods(1, 2));
    h.lagging.add('be_app/srv2');
    const r = await agent.pass();
    expect(r.findings).toEqual([{ kind: 'not-taken', backend: 'be_app', socket: 'memory', servers: ['srv2'] }]);
    h.lagging.clear();
    expect((await agent.pass()).ok).toBe(true);
    expect(h.ready()).toEqual(['10.1.0.1:8080', '10.1.0.2:8080']);
  });

  it('leaves weights alone once HAProxy says the algorithm is static', async () => {
    const h = haproxy();
    const { agent, dns, logs } = setup([h]);
    dns.answers.set(SRV, pods(1, 1));
    (h.backends.get('be_app') ?? { algo: '' }).algo = 'static-rr';
    await agent.pass();
    dns.answers.set(SRV, [...pods(1, 1), ...pods(2, 1).map((e) => ({ ...e, weight: 5 }))]);
    await agent.pass();
    expect(h.sets().filter((c) => c.includes(' weight '))).toEqual([]);
    expect(
      logs.count('backend uses a static algorithm that only takes weights 0% and 100%: leaving weights alone (--weights ignore)'),
    ).toBe(1);
  });

  it.each(['2.6.12', '1.8.30'])('stops with a clear error when the socket of %s is not level admin', async (version) => {
    const h = haproxy(undefined, 'memory', version);
    h.level = 'operator';
    const { agent, dns } = setup([h]);
    dns.answers.set(SRV, pods(1, 1));
    await expect(agent.pass()).rejects.toThrow(HaproxyConfigError);
    await expect(agent.pass()).rejects.toThrow(/is not "level admin".*expected "stats socket \.\.\. level admin"/);
    expect(h.sets()).toEqual([...probeOn(version), ...probeOn(version)]); // nothing but the level asked (on 1.8, by the no-op weight)
  });

  it('stops naming the backend when it does not exist at first contact', async () => {
    const h = haproxy({ be_other: slots(2) });
    const { agent, dns } = setup([h]);
    dns.answers.set(SRV, pods(1, 1));
    await expect(agent.pass()).rejects.toThrow(HaproxyConfigError);
    await expect(agent.pass()).rejects.toThrow(/backend be_app not found in HAProxy at memory: expected a backend of that name/);
  });

  it('reports every rejected command with its text and HAProxy’s answer, in its log line', async () => {
    const h = haproxy(undefined, 'memory', '1.8.30');
    const { agent, dns, logs } = setup([h]);
    dns.answers.set(SRV, pods(1, 3));
    await agent.pass(); // checks pass on the first process
    dns.answers.set(SRV, pods(1, 4));
    h.faults.set('set server be_app/srv4 state', 'unknown-command');
    const r = await agent.pass();
    expect(r.ok).toBe(false);
    const rejected = logs.lines().filter((l) => l.msg === 'HAProxy rejected a command');
    expect(rejected.map((l) => l['command'])).toEqual(['set server be_app/srv4 state ready']);
    expect(String(rejected[0]?.['reply'])).toMatch(/^Unknown command\. Please enter one of the following commands only :/);
  });

  it('records the update latency on every socket, not only the first', async () => {
    const [a, b] = [haproxy(undefined, 'a'), haproxy(undefined, 'b')];
    const { agent, dns, reporter } = setup([a, b]);
    dns.answers.set(SRV, pods(1, 1));
    const seen: string[] = [];
    reporter.subscribe((r) => {
      if (r.lane === 'socket') for (const k of r.latency.keys()) seen.push(`${r.socket} ${k}`);
    });
    await agent.pass();
    dns.answers.set(SRV, pods(1, 2));
    await agent.pass();
    await agent.pass(); // nothing changed: no sample
    expect(seen.sort()).toEqual(['a be_app', 'a be_app', 'b be_app', 'b be_app']);
  });
});

describe('addresses from DNS', () => {
  it('writes an IPv4-mapped address the way HAProxy prints it, so a pass at rest sends nothing', async () => {
    const h = haproxy();
    const { agent, dns } = setup([h]);
    dns.answers.set(SRV, [at('::ffff:a00:1')]);
    await agent.pass();
    expect(h.ready()).toEqual(['::ffff:10.0.0.1:8080']);
    const sent = h.writes().length;
    for (let i = 0; i < 3; i++) await agent.pass();
    expect(h.writes().length).toBe(sent);
  });

  it('never makes a server of a refused address, and logs each once', async () => {
    const h = haproxy();
    const { agent, dns, logs } = setup([h]);
    const bad = ['169.254.169.254', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::', 'ff02::1', '127.0.0.1', '::ffff:169.254.169.254'];
    dns.answers.set(SRV, [...pods(1, 1), ...bad.map(at)]);
    expect((await agent.pass()).ok).toBe(true); // refusals are warnings: the good endpoint is in force
    await agent.pass();
    expect(h.ready()).toEqual(['10.1.0.1:8080']);
    expect(logs.count('endpoint refused')).toBe(bad.length);
  });

  it('treats an answer of refused addresses only as an empty answer: held for --hold-nx, not applied, and said as such', async () => {
    const h = haproxy();
    const { agent, dns, logs } = setup([h]);
    dns.answers.set(SRV, pods(1, 1));
    await agent.pass();
    dns.answers.set(SRV, [at('169.254.169.254'), at('127.0.0.2')]);
    const r = await agent.pass();
    expect(r.findings.map((f) => f.kind).sort()).toEqual(['endpoint-refused', 'endpoint-refused', 'endpoints-all-refused']);
    expect(h.ready()).toEqual(['10.1.0.1:8080']);
    expect(agent.status(1_000_000).backends[0]).toMatchObject({ status: 'refused', refused: 2, endpoints: 1 });
    const said = logs.lines().filter((l) => l.msg?.includes('was refused by the address policy'));
    expect(said.map((l) => l['kind'])).toEqual(['endpoints-all-refused']); // said once, with its kind for log pipelines
  });
});

describe('readiness: what a load balancer needs', () => {
  const timing = { holdMs: 600_000 };
  const ready = (agent: Agent, now: number): boolean => readiness(agent.status(now), timing).ok;

  it('is ready beside a backend whose name never resolves, and stays ready through an outage past --hold', async () => {
    const h = haproxy({ be_a: slots(3), be_nx: slots(3) });
    const { agent, dns, clock } = setup([h], [parseBackend('be_a=a.svc:80'), parseBackend('be_nx=nx.svc:80')]);
    dns.answers.set('a.svc', pods(1, 2, 80));
    expect(ready(agent, clock.now)).toBe(false); // nothing ran yet
    await agent.pass();
    expect(ready(agent, clock.now)).toBe(true);
    dns.answers.set('a.svc', new DnsError('timeout', 'no answer'));
    for (const step of [300_000, 301_000, 100_000]) {
      clock.now += step;
      await agent.pass();
      expect(ready(agent, clock.now)).toBe(true);
    }
    expect(h.ready()).toEqual([]); // the hold expired: the servers left, the load balancer stays in service
    expect(readiness(agent.status(clock.now), timing).detail).toContain(
      'backend be_a: DNS failing (timeout for 401s); answer 701s old, past --hold; 0 in force',
    );
  });

  it('keeps a new replica unready while DNS times out at start, and makes it ready once an answer is applied', async () => {
    const h = haproxy();
    const { agent, dns, clock } = setup([h]);
    dns.answers.set(SRV, new DnsError('timeout', 'no answer'));
    for (const step of [0, 700_000]) {
      clock.now += step;
      await agent.pass();
      expect(ready(agent, clock.now)).toBe(false); // even past --hold: it has never known what DNS holds
    }
    dns.answers.set(SRV, pods(1, 2));
    await agent.pass();
    expect(ready(agent, clock.now)).toBe(true);
  });

  it('is ready at start from a saved answer within --hold while DNS fails', async () => {
    const h = haproxy();
    const saved: SavedState = {
      version: 1,
      backends: { be_app: { record: SRV, at: 990_000, endpoints: pods(1, 2) } },
      drains: {},
    };
    const { agent, dns, clock } = setup([h], undefined, { saved });
    dns.answers.set(SRV, new DnsError('servfail', 'SERVFAIL'));
    await agent.pass();
    expect(h.ready()).toEqual(['10.1.0.1:8080', '10.1.0.2:8080']);
    expect(ready(agent, clock.now)).toBe(true);
  });

  it('is unready after HAProxy restarts until the new process has had every backend applied again', async () => {
    const h = haproxy();
    const { agent, dns, clock } = setup([h]);
    dns.answers.set(SRV, pods(1, 2));
    await agent.pass();
    expect(ready(agent, clock.now)).toBe(true);
    h.unreachable = 'connection refused';
    await agent.pass();
    expect(readiness(agent.status(clock.now), timing).detail.split('\n')[0]).toBe('not ready: HAProxy socket memory: connection refused');
    h.unreachable = null;
    h.restart();
    h.replies.set('set server be_app/srv1 state ready', 'Unknown command.\n');
    await agent.pass();
    expect(ready(agent, clock.now)).toBe(false); // the new process has not taken every change
    h.replies.clear();
    await agent.pass();
    expect(ready(agent, clock.now)).toBe(true);
  });
});

describe('readiness that is checked on the socket (/readyz)', () => {
  const timing = { holdMs: 600_000 };
  const probe = async (agent: Agent): Promise<{ ok: boolean; head: string }> => {
    const v = readiness(await agent.checkedStatus(), timing);
    return { ok: v.ok, head: v.detail.split('\n')[0] ?? '' };
  };

  it('is not ready the moment another process answers on the socket, before the lane has run again', async () => {
    const h = haproxy();
    const { agent, dns } = setup([h]);
    dns.answers.set(SRV, pods(1, 2));
    await agent.pass();
    expect(await probe(agent)).toEqual({ ok: true, head: 'ready' });
    h.restart(); // a reload: the new process has its slots as configured, empty
    expect(await probe(agent)).toEqual({
      ok: false,
      head: 'not ready: socket memory: HAProxy (pid 101) has not had backend be_app applied yet',
    });
    expect(ready(agent)).toBe(false); // and the lane's own view says so from then on
    await agent.pass();
    expect(await probe(agent)).toEqual({ ok: true, head: 'ready' });
    expect(h.ready()).toEqual(['10.1.0.1:8080', '10.1.0.2:8080']);
  });

  it('counts a restart under the same pid (a container whose HAProxy is pid 1 again) as a new process', async () => {
    const h = haproxy();
    const { agent, dns } = setup([h]);
    dns.answers.set(SRV, pods(1, 2));
    await agent.pass();
    h.restart();
    h.pid -= 1; // the same pid; only the start time tells
    h.replies.set('set server be_app/srv1 state ready', 'Unknown command.\n');
    await agent.pass();
    expect(ready(agent)).toBe(false); // the new process has not taken every change
    h.replies.clear();
    await agent.pass();
    expect(ready(agent)).toBe(true);
  });

  it('is not ready while something on the socket answers unlike HAProxy, in the lane and in the probe between runs', async () => {
    const h = haproxy();
    const { agent, dns } = setup([h]);
    dns.answers.set(SRV, pods(1, 2));
    await agent.pass();
    h.garbled = 'HTTP/1.1 400 Bad Request';
    expect(await probe(agent)).toEqual({
      ok: false,
      head: 'not ready: HAProxy socket memory: a reply could not be read (show info: no Version line in "HTTP/1.1 400 Bad Request"); nothing was changed, the next run reads again',
    });
    await agent.pass();
    expect(ready(agent)).toBe(false);
    h.garbled = null;
    await agent.pass();
    expect(await probe(agent)).toEqual({ ok: true, head: 'ready' });
  });

  it('asks the socket once for probes that come together, and not at all when the lane has not made it ready', async () => {
    const h = haproxy();
    const { agent, dns } = setup([h]);
    dns.answers.set(SRV, pods(1, 2));
    await agent.checkedStatus();
    expect(h.infoReads).toBe(0); // nothing applied yet: not ready without asking
    await agent.pass();
    const before = h.infoReads;
    await Promise.all([agent.checkedStatus(), agent.checkedStatus(), agent.checkedStatus()]);
    expect(h.infoReads - before).toBe(1);
  });

  const ready = (agent: Agent): boolean => readiness(agent.status(1_000_000), timing).ok;
});

describe('--dynamic-servers: beyond the slots', () => {
  const keys = (from: number, n: number): string[] => pods(from, n).map((e) => `${e.address}:${String(e.port)}`);

  it('adds servers for what 4 slots cannot hold, deletes them once their pods left, adds them again after a restart', async () => {
    const h = haproxy({ be_app: slots(4) });
    const { agent, dns, logs } = setup([h], undefined, { dynamic: true, drainMs: 0 });
    dns.answers.set(SRV, pods(1, 10));
    expect((await agent.pass()).ok).toBe(true);
    expect(h.ready().sort()).toEqual(keys(1, 10).sort());
    expect([...h.added].sort()).toEqual(['srv-a1', 'srv-a2', 'srv-a3', 'srv-a4', 'srv-a5', 'srv-a6']);
    const id = addedServerId({ pid: h.pid, startTimeSec: h.startTime, backend: 'be_app' }, 'srv-a1');
    expect(h.received).toContain(`add server be_app/srv-a1 10.1.0.5:8080 id ${String(id)}`);
    // Slots were filled first: the added servers hold the endpoints that came last.
    expect(
      h.backends
        .get('be_app')
        ?.servers.slice(0, 4)
        .map((s) => s.address),
    ).toEqual(['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4']);
    expect(logs.lines().filter((l) => String(l.msg).includes('get no sticky cookie'))).toHaveLength(1);
    expect(logs.count('server added: more endpoints than slots')).toBe(6);

    dns.answers.set(SRV, pods(1, 3));
    await agent.pass(); // the pods leave: maintenance (no drain here)
    await agent.pass(); // ... then the added servers are deleted
    expect(h.added.size).toBe(0);
    expect(h.ready().sort()).toEqual(keys(1, 3).sort());
    expect(logs.count('server deleted: added at run time, its pod left')).toBe(6);

    dns.answers.set(SRV, pods(1, 10));
    await agent.pass();
    h.restart(); // added servers are lost on a restart
    expect(h.added.size).toBe(0);
    await agent.pass();
    expect(h.ready().sort()).toEqual(keys(1, 10).sort());
    expect(h.added.size).toBe(6);
  });

  it('changes nothing without the flag: the slots are full, the rest is said', async () => {
    const h = haproxy({ be_app: slots(4) });
    const { agent, dns } = setup([h]);
    dns.answers.set(SRV, pods(1, 10));
    const r = await agent.pass();
    expect(h.ready()).toHaveLength(4);
    expect(h.received.filter((c) => c.startsWith('add server'))).toEqual([]);
    expect(r.findings.map((f) => f.kind)).toEqual(['endpoints-without-slot']);
  });

  it.each(['1.8.30', '2.2.0'])('says once that the flag has no effect on HAProxy %s, and keeps the slots full', async (version) => {
    const h = haproxy({ be_app: slots(4) });
    h.version = version;
    const { agent, dns, logs } = setup([h], undefined, { dynamic: true });
    dns.answers.set(SRV, pods(1, 10));
    await agent.pass();
    await agent.pass();
    expect(h.ready()).toHaveLength(4);
    expect(logs.lines().filter((l) => String(l.msg).startsWith('--dynamic-servers has no effect'))).toHaveLength(1);
  });

  it('says nothing of cookies on HAProxy 3.0, which gives added servers theirs', async () => {
    const h = haproxy({ be_app: slots(2) });
    h.version = '3.0.5';
    const { agent, dns, logs } = setup([h], undefined, { dynamic: true });
    dns.answers.set(SRV, pods(1, 3));
    await agent.pass();
    expect(h.added.size).toBe(1);
    expect(logs.lines().filter((l) => String(l.msg).includes('sticky cookie'))).toEqual([]);
  });

  it('shows the add and del commands in a dry run, and sends none', async () => {
    const h = haproxy({ be_app: slots(1) });
    const { agent, dns, printed } = setup([h], undefined, { dynamic: true, dryRun: true });
    dns.answers.set(SRV, pods(1, 2));
    await agent.pass();
    const id = addedServerId({ pid: h.pid, startTimeSec: h.startTime, backend: 'be_app' }, 'srv-a1');
    expect(printed).toContain(`add server be_app/srv-a1 10.1.0.2:8080 id ${String(id)}`);
    expect(h.writes()).toEqual([]);
  });
});

describe('a pass at rest', () => {
  it('reads show info alone while nothing changed, and repairs drift made by someone else within the bound', async () => {
    const h = haproxy();
    const { agent, dns, clock } = setup([h]);
    dns.answers.set(SRV, pods(1, 2));
    await agent.pass();
    await agent.pass(); // a full read that finds nothing to do: the lane is at rest from here
    const reads = h.reads;
    for (let i = 0; i < 5; i++) {
      clock.now += 1_000;
      await agent.pass();
    }
    expect(h.reads).toBe(reads);
    expect(h.infoReads).toBe(5);
    // An operator puts a server in maintenance by hand:
    (h.backends.get('be_app')?.servers[0] ?? { admin: 0 }).admin = ADMIN.maint;
    clock.now += 4_000; // 9 s since the last full read: still at rest
    await agent.pass();
    expect(h.ready()).toEqual(['10.1.0.2:8080']);
    clock.now += 1_000; // 10 s: the bound, a full read, the drift repaired
    await agent.pass();
    expect(h.ready()).toEqual(['10.1.0.1:8080', '10.1.0.2:8080']);
  });

  it('stays at rest after a drift check that finds HAProxy as the last full read left it', async () => {
    const h = haproxy();
    const writer = new CountingWriter();
    const { agent, dns, clock } = setup([h], undefined, { writer });
    dns.answers.set(SRV, pods(1, 2));
    await agent.pass();
    await agent.pass();
    const [reads, sent, acts] = [h.reads, h.writes().length, writer.acts];
    clock.now += 10_000; // the bound: a full read, which finds nothing changed
    await agent.pass();
    expect(h.reads).toBe(reads + 1);
    expect(writer.acts).toBe(acts); // what it read is what the last full run read: nothing is planned again
    for (let i = 0; i < 9; i++) {
      clock.now += 1_000;
      await agent.pass();
    }
    expect(h.reads).toBe(reads + 1); // show info alone again, for another 10 s
    clock.now += 1_000;
    await agent.pass();
    expect(h.reads).toBe(reads + 2);
    expect(h.writes()).toHaveLength(sent);
  });

  it('reads in full as soon as DNS changes or HAProxy restarts', async () => {
    const h = haproxy();
    const { agent, dns } = setup([h]);
    dns.answers.set(SRV, pods(1, 2));
    await agent.pass();
    await agent.pass();
    dns.answers.set(SRV, pods(1, 3));
    await agent.pass();
    expect(h.ready()).toHaveLength(3);
    await agent.pass();
    h.restart();
    await agent.pass();
    expect(h.ready()).toHaveLength(3);
  });

  it('keeps reading in full while a drain runs (its end, or its health check going down, needs the state)', async () => {
    const h = haproxy();
    const { agent, dns } = setup([h]);
    dns.answers.set(SRV, pods(1, 2));
    await agent.pass();
    dns.answers.set(SRV, pods(1, 1));
    await agent.pass(); // srv2 drains
    const reads = h.reads;
    await agent.pass();
    await agent.pass();
    expect(h.reads - reads).toBe(2);
    expect(h.infoReads).toBe(0);
  });
});

describe('first contact: what a real run would hit, said plainly', () => {
  it.each(['2.6.12', '1.8.30'])(
    'a dry run against a level-user socket (%s) stops on "not level admin", with no false warning',
    async (version) => {
      const h = haproxy();
      h.version = version;
      h.level = 'user';
      const { agent, dns, logs } = setup([h], undefined, { dryRun: true });
      dns.answers.set(SRV, pods(1, 1));
      await expect(agent.pass()).rejects.toThrow(/is not "level admin"/);
      expect(logs.lines().filter((l) => l.level === 'warn')).toEqual([]); // no "sets no cookie", no other warning
      expect(h.writes()).toEqual([]);
    },
  );

  it('warns once when a managed backend has cookies but is not in HTTP mode, naming mode http', async () => {
    const h = haproxy();
    (h.backends.get('be_app') ?? { mode: '' }).mode = 'tcp';
    const { agent, dns, logs } = setup([h]);
    dns.answers.set(SRV, pods(1, 1));
    expect((await agent.pass()).ok).toBe(true);
    await agent.pass();
    const warned = logs.lines().filter((l) => String(l.msg).includes('"mode http"'));
    expect(warned).toHaveLength(1);
    expect(String(warned[0]?.msg)).toContain('backend be_app is in tcp mode, where HAProxy ignores cookies');
  });

  it.each([
    ['1.8.1', 'does not take a server down'],
    ['1.8.3', 'starts in time quadratic'],
  ])('warns at first contact with HAProxy %s, naming 1.8.4', async (version, what) => {
    const h = haproxy();
    h.version = version;
    const { agent, dns, logs } = setup([h]);
    dns.answers.set(SRV, pods(1, 1));
    await agent.pass();
    const warned = logs.lines().filter((l) => String(l.msg).includes('1.8.4 or later'));
    expect(warned).toHaveLength(1);
    expect(String(warned[0]?.msg)).toContain(what);
  });

  it('says nothing of the version on 1.8.4 and later', async () => {
    const h = haproxy();
    h.version = '1.8.4';
    const { agent, dns, logs } = setup([h]);
    dns.answers.set(SRV, pods(1, 1));
    await agent.pass();
    expect(logs.lines().filter((l) => String(l.msg).includes('1.8.4'))).toEqual([]);
  });
});

describe('--state-file: what survives a restart', () => {
  it('keeps the last good answer and running drains, written only when they change (or to refresh their time)', async () => {
    const h = haproxy();
    const kept: SavedState[] = [];
    const { agent, dns, clock } = setup([h], undefined, { kept, drainMs: 600_000 });
    dns.answers.set(SRV, pods(1, 2));
    await agent.pass();
    expect(kept).toHaveLength(1);
    await agent.pass();
    expect(kept).toHaveLength(1); // nothing changed
    dns.answers.set(SRV, pods(1, 1));
    clock.now += 1_000;
    await agent.pass(); // pod 2 leaves: a new answer, and a drain starts
    expect(kept.at(-1)?.backends['be_app']?.endpoints).toHaveLength(1);
    expect(kept.at(-1)?.drains).toEqual({ memory: { be_app: { srv2: 1_001_000 } } });
    const n = kept.length;
    clock.now += 60_000; // a tenth of --hold: the answer's time is refreshed
    await agent.pass();
    expect(kept.length).toBe(n + 1);
    expect(kept.at(-1)?.backends['be_app']?.at).toBe(1_061_000);
  });

  it('writes nothing for a new answer that says what the last one said', async () => {
    const h = haproxy();
    const kept: SavedState[] = [];
    const { agent, dns } = setup([h], undefined, { kept });
    dns.answers.set(SRV, pods(1, 2));
    await agent.pass();
    expect(kept).toHaveLength(1);
    dns.answers.set(SRV, pods(1, 2)); // a new answer (a new generation), the same endpoints
    await agent.pass();
    expect(kept).toHaveLength(1);
    dns.answers.set(SRV, pods(1, 3));
    await agent.pass();
    expect(kept).toHaveLength(2);
    expect(kept.at(-1)?.backends['be_app']?.endpoints).toHaveLength(3);
  });

  it('after a restart during a DNS outage, fills a restarted HAProxy from the saved answer', async () => {
    const saved: SavedState = {
      version: 1,
      backends: { be_app: { record: SRV, at: 1_000_000, endpoints: pods(1, 2) } },
      drains: {},
    };
    const h = haproxy(); // every slot in maintenance, as HAProxy starts
    const { agent, dns } = setup([h], undefined, { saved, now: 1_300_000 });
    dns.answers.set(SRV, new DnsError('timeout', 'no answer'));
    const r = await agent.pass();
    expect(h.ready()).toEqual(['10.1.0.1:8080', '10.1.0.2:8080']);
    expect(r.findings.map((f) => f.kind)).toEqual(['dns-failing']);
  });

  it('does not use a saved answer older than --hold', async () => {
    const saved: SavedState = { version: 1, backends: { be_app: { record: SRV, at: 0, endpoints: pods(1, 2) } }, drains: {} };
    const h = haproxy();
    const { agent, dns } = setup([h], undefined, { saved, now: 600_000 });
    dns.answers.set(SRV, new DnsError('timeout', 'no answer'));
    await agent.pass();
    expect(h.ready()).toEqual([]);
  });

  it('lets a drain that was running keep its clock', async () => {
    const h = haproxy();
    const { agent, dns } = setup([h]);
    dns.answers.set(SRV, pods(1, 2));
    await agent.pass();
    (h.backends.get('be_app')?.servers[1] ?? { admin: 0 }).admin = ADMIN.drain;
    // Restarted 25 s into a 30 s drain of srv2:
    const saved: SavedState = {
      version: 1,
      backends: { be_app: { record: SRV, at: 1_000_000, endpoints: pods(1, 1) } },
      drains: { memory: { be_app: { srv2: 975_000 } } },
    };
    const again = setup([h], undefined, { saved });
    again.dns.answers.set(SRV, pods(1, 1));
    await again.agent.pass();
    expect(h.servers.map(stateOf)[1]).toBe('drain');
    again.clock.now += 5_000;
    await again.agent.pass();
    expect(h.servers.map(stateOf)[1]).toBe('maint');
  });
});

describe('--dry-run: the same decisions, a writer that prints', () => {
  it('prints the commands it would send and sends none, not even the 1.8 admin probe', async () => {
    const h = haproxy();
    h.version = '1.8.30';
    const { agent, dns, printed } = setup([h], undefined, { dryRun: true });
    dns.answers.set(SRV, pods(1, 1));
    expect((await agent.pass()).ok).toBe(true);
    expect(h.writes()).toEqual([]);
    expect(printed).toEqual([
      `# be_app <- ${SRV}: 1 endpoint`,
      '#   10.1.0.1:8080 weight 10 priority 0 ttl 5 target pod-1.web',
      'set server be_app/srv1 addr 10.1.0.1 port 8080',
      'set server be_app/srv1 weight 256',
      'set server be_app/srv1 state ready',
      '# be_app/srv1 10.1.0.1:8080 ready',
    ]);
    await agent.pass();
    expect(printed).toHaveLength(6); // the same block is not printed again
  });

  it('prints the endpoints DNS gave when HAProxy cannot be read', async () => {
    const h = haproxy();
    h.unreachable = 'no such socket';
    const { agent, dns, printed } = setup([h], undefined, { dryRun: true });
    dns.answers.set(SRV, pods(1, 2));
    const r = await agent.pass();
    expect(r.findings.map((f) => f.kind)).toEqual(['haproxy-unreachable']);
    expect(printed[0]).toBe(`# be_app <- ${SRV}: 2 endpoints`);
  });
});

describe('lanes: one fault stays in its own lane', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const run = (agent: Agent, stop: AbortController): Promise<void> =>
    agent.run(stop.signal, { intervalMs: 1_000, respectTtl: false, random: () => 0 });

  it('a socket that never answers does not delay another socket', async () => {
    vi.useFakeTimers();
    const [hung, healthy] = [haproxy(undefined, 'hung'), haproxy(undefined, 'healthy')];
    hung.hold = new Promise(() => undefined);
    const { agent, dns } = setup([hung, healthy]);
    dns.answers.set(SRV, pods(1, 2));
    const stop = new AbortController();
    const done = run(agent, stop);
    await vi.advanceTimersByTimeAsync(100);
    expect(healthy.ready()).toEqual(['10.1.0.1:8080', '10.1.0.2:8080']);
    dns.answers.set(SRV, pods(3, 1));
    await vi.advanceTimersByTimeAsync(1_100); // the DNS lane's next run, and the wake-up it gives
    expect(healthy.ready()).toEqual(['10.1.0.3:8080']);
    expect(hung.writes()).toEqual([]);
    stop.abort();
    hung.hold = null;
    void done;
  });

  it('a DNS name that never answers does not delay another backend', async () => {
    vi.useFakeTimers();
    const h = haproxy({ be_dead: slots(2), be_live: slots(2) });
    const { agent, dns } = setup([h], [parseBackend('be_dead=dead.svc:80'), parseBackend('be_live=live.svc:80')]);
    dns.answers.set('dead.svc', 'hang');
    dns.answers.set('live.svc', pods(1, 1, 80));
    const stop = new AbortController();
    void run(agent, stop);
    await vi.advanceTimersByTimeAsync(10);
    expect(h.ready('be_live')).toEqual(['10.1.0.1:80']);
    dns.answers.set('live.svc', pods(2, 1, 80));
    await vi.advanceTimersByTimeAsync(1_100);
    expect(h.ready('be_live')).toEqual(['10.1.0.2:80']);
    expect(h.ready('be_dead')).toEqual([]);
    stop.abort();
  });

  it('a zone serial that moves brings the DNS lane forward; one that stays, or a watch turned off, does not', async () => {
    vi.useFakeTimers();
    let serial = 7;
    const asked: string[] = [];
    for (const watchMs of [100, 0]) {
      const h = haproxy();
      const { agent, dns } = setup([h], undefined, {
        serial: (name) => {
          asked.push(name);
          return serial;
        },
      });
      dns.answers.set(SRV, pods(1, 2));
      const stop = new AbortController();
      void agent.run(stop.signal, { intervalMs: 60_000, respectTtl: false, random: () => 0, watchMs });
      await vi.advanceTimersByTimeAsync(300); // the first run, and the one after the first serial read
      expect(h.ready()).toEqual(['10.1.0.1:8080', '10.1.0.2:8080']);
      dns.answers.set(SRV, pods(3, 1));
      await vi.advanceTimersByTimeAsync(1_000); // the serial stays: nothing asks DNS before the interval
      expect(h.ready()).toEqual(['10.1.0.1:8080', '10.1.0.2:8080']);
      serial++;
      await vi.advanceTimersByTimeAsync(300);
      expect(h.ready()).toEqual(watchMs > 0 ? ['10.1.0.3:8080'] : ['10.1.0.1:8080', '10.1.0.2:8080']);
      stop.abort();
      expect(new Set(asked)).toEqual(new Set([SRV])); // the name DNS answered for
    }
  });

  it('a hard error in one lane stops every lane and rejects with it', async () => {
    const h = haproxy();
    h.level = 'operator';
    const { agent, dns } = setup([h]);
    dns.answers.set(SRV, pods(1, 1));
    await expect(run(agent, new AbortController())).rejects.toThrow(/is not "level admin"/);
  });
});
