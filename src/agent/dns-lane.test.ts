import { describe, expect, it } from 'vitest';
import { captureLogs } from '../../test/support/logs.ts';
import { parseBackend } from '../config/values.ts';
import type { Endpoint } from '../core/types.ts';
import type { DnsAnswer } from '../dns/resolver.ts';
import { AgentMetrics } from '../observability/metrics.ts';
import { DnsLane } from './dns-lane.ts';
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

const answer = (endpoints: Endpoint[], dropped: number): DnsAnswer => ({
  status: 'ok',
  name: SRV,
  endpoints,
  ttl: 5,
  notes: [],
  refusedNames: [],
  dropped,
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

    const first = await lane.run();
    reporter.dns(first);
    expect(first.findings).toEqual([{ kind: 'endpoints-capped', backend: 'be_app', record: SRV, kept: 4, dropped: 76 }]);
    expect(first.endpoints).toBe(4);
    expect(await dropped()).toBe(76);
    next = answer(pods(4), 76); // a new answer object saying the same
    reporter.dns(await lane.run());
    reporter.dns(await lane.run());
    expect(capped()).toBe(1);
    next = answer(pods(4), 90);
    reporter.dns(await lane.run());
    expect(capped()).toBe(2);
    expect(await dropped()).toBe(90);
    next = answer(pods(3), 0);
    const under = await lane.run();
    reporter.dns(under);
    expect(under.findings).toEqual([]);
    expect(await dropped()).toBe(0);
  });
});
