import { describe, expect, it } from 'vitest';
import { captureLogs } from '../../test/support/logs.ts';
import { parseBackend } from '../config/values.ts';
import type { Endpoint } from '../core/types.ts';
import type { DnsAnswer } from '../dns/resolver.ts';
import { DnsError } from '../errors.ts';
import { AgentMetrics } from '../observability/metrics.ts';
import { DnsLane, type DnsReport } from './dns-lane.ts';
import { Reporter } from './report.ts';

const SRV = '_http._tcp.web.default.svc.cluster.local';

const pods = (n: number): Endpoint[] =>
  Array.from({ length: n }, (_, i) => ({
    target: `pod-${String(i)}.web`,
    address: `10.1.0.${String(i + 1)}`,
    port: 8080,
    weight: 10,
    priority: 0,
    ttl: 5,
  }));

let generations = 0;

/** A new answer (a generation of its own), as the resolver makes one. */
const answer = (endpoints: Endpoint[], dropped: number): DnsAnswer => ({
  status: 'ok',
  name: SRV,
  endpoints,
  ttl: 5,
  notes: [],
  refusedNames: [],
  dropped,
  generation: ++generations,
});

/** A run that must report (nothing overlaps it). */
async function ran(lane: DnsLane): Promise<DnsReport> {
  const r = await lane.run();
  if (r === null) throw new Error('the run reported nothing');
  return r;
}

describe("a DNS lane and its answers' generations", () => {
  it('reads an answer once per generation, and says the endpoints in force changed only when they did', async () => {
    let next = answer(pods(2), 0);
    const lane = new DnsLane({
      spec: parseBackend(`be_app=${SRV}`),
      resolve: () => Promise.resolve(next),
      timers: { holdMs: 600_000, holdNxMs: 30_000 },
      policy: { allow: [] },
      now: () => 1_000,
    });
    expect((await ran(lane)).changed).toBe(true);
    // An answer of the generation read says the same (DnsAnswer): it is not read again. This
    // one, another object saying otherwise against the contract, shows that it was not.
    next = { ...answer(pods(3), 0), generation: next.generation };
    expect((await ran(lane)).changed).toBe(false);
    expect(lane.endpoints).toHaveLength(2);
    // A new generation is read, and is a change only when its endpoints are.
    next = answer(pods(2), 0);
    expect((await ran(lane)).changed).toBe(false);
    next = answer(pods(3), 0);
    expect((await ran(lane)).changed).toBe(true);
    expect(lane.endpoints).toHaveLength(3);
    expect(lane.revision.n).toBe(2);
  });
});

describe('a DNS lane whose answer went past --max-endpoints', () => {
  it('says so once while the count stays, again when it changes, and shows the count in a gauge', async () => {
    const logs = captureLogs();
    const metrics = new AgentMetrics(false);
    const reporter = new Reporter(logs.log, metrics);
    let next = answer(pods(4), 76);
    const lane = new DnsLane({
      spec: parseBackend(`be_app=${SRV}`),
      resolve: () => Promise.resolve(next),
      timers: { holdMs: 600_000, holdNxMs: 30_000 },
      policy: { allow: [] },
      now: () => 1_000,
    });
    const dropped = async (): Promise<number | undefined> =>
      (await metrics.endpointsDropped.get()).values.find((v) => v.labels.backend === 'be_app')?.value;
    const capped = (): number => logs.lines().filter((l) => String(l.msg).includes('raise --max-endpoints')).length;

    const first = await ran(lane);
    reporter.dns(first);
    expect(first.findings).toEqual([{ kind: 'endpoints-capped', backend: 'be_app', record: SRV, kept: 4, dropped: 76 }]);
    expect(first.endpoints).toBe(4);
    expect(await dropped()).toBe(76);
    next = answer(pods(4), 76); // a new answer object saying the same
    reporter.dns(await ran(lane));
    reporter.dns(await ran(lane));
    expect(capped()).toBe(1);
    next = answer(pods(4), 90);
    reporter.dns(await ran(lane));
    expect(capped()).toBe(2);
    expect(await dropped()).toBe(90);
    next = answer(pods(3), 0);
    const under = await ran(lane);
    reporter.dns(under);
    expect(under.findings).toEqual([]);
    expect(await dropped()).toBe(0);
  });
});

describe('a DNS lane whose runs overlap (a slow server, a question in flight when the zone changes)', () => {
  /** A resolve the test answers when it likes. */
  const deferred = (): { promise: Promise<DnsAnswer>; answer: (a: DnsAnswer) => void; fail: (e: Error) => void } => {
    let answer: (a: DnsAnswer) => void = () => undefined;
    let fail: (e: Error) => void = () => undefined;
    const promise = new Promise<DnsAnswer>((resolve, reject) => {
      answer = resolve;
      fail = reject;
    });
    return { promise, answer, fail };
  };
  const laneAsking = (asked: ReturnType<typeof deferred>[]): DnsLane =>
    new DnsLane({
      spec: parseBackend(`be_app=${SRV}`),
      resolve: () => asked.shift()?.promise ?? Promise.reject(new Error('not asked')),
      timers: { holdMs: 600_000, holdNxMs: 30_000 },
      policy: { allow: [] },
      now: () => 1_000,
    });

  it("never applies an older run's answer that comes after a newer one's", async () => {
    const older = deferred();
    const newer = deferred();
    const lane = laneAsking([older, newer]);
    const first = lane.run();
    const second = lane.run();
    newer.answer(answer(pods(3), 0));
    expect((await second)?.endpoints).toBe(3);
    older.answer(answer(pods(2), 0)); // asked before the change, come late
    expect(await first).toBeNull();
    expect(lane.endpoints).toHaveLength(3);
  });

  it("applies an older run's answer that comes first, then the newer one's", async () => {
    const older = deferred();
    const newer = deferred();
    const lane = laneAsking([older, newer]);
    const first = lane.run();
    const second = lane.run();
    older.answer(answer(pods(2), 0));
    expect((await first)?.endpoints).toBe(2);
    newer.answer(answer(pods(3), 0));
    expect((await second)?.changed).toBe(true);
    expect(lane.endpoints).toHaveLength(3);
  });

  it("says nothing of an older run's failure once a newer run's answer is in force", async () => {
    const older = deferred();
    const newer = deferred();
    const lane = laneAsking([older, newer]);
    const first = lane.run();
    const second = lane.run();
    newer.answer(answer(pods(3), 0));
    await second;
    older.fail(new DnsError('timeout', 'no answer'));
    expect(await first).toBeNull();
    expect(lane.view(1_000).status).toBe('ok');
  });
});
