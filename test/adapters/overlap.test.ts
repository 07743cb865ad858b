import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildAgent } from '../../src/agent/compose.ts';
import { parseConfig } from '../../src/cli/config.ts';
import { FakeHaproxy } from '../support/fake-haproxy.ts';
import { FaultDns, published } from '../support/fault-dns.ts';
import { captureLogs } from '../support/logs.ts';

const SRV = '_http._tcp.web.default.svc.cluster.local';

/**
 * Behind a slow server, a change is asked about when the zone's serial moves, even while an
 * older question is in flight; the older question's answer, which says what the zone held
 * before, comes after and is not applied.
 */
describe('the agent asking again while a slow question is in flight', () => {
  let dns: FaultDns;
  let haproxy: FakeHaproxy;
  beforeEach(async () => {
    dns = new FaultDns(SRV);
    await dns.start();
    haproxy = new FakeHaproxy();
    await haproxy.start();
  });
  afterEach(async () => {
    await dns.stop();
    await haproxy.stop();
  });

  it('sends a newer question when the serial moves, applies its answer, and drops the older one come late', async () => {
    const { log } = captureLogs();
    const parsed = parseConfig(
      [
        ...['--socket', haproxy.socket, '--backend', `be_app=${SRV}`, '--nameserver', `127.0.0.1:${String(dns.port)}`],
        ...['--allow-net', '127.0.0.0/8', '--interval', '60s', '--watch', '50ms', '--serial-trust', '0'],
      ],
      {},
    );
    if (parsed.config === null) throw new Error('no config');
    // One try a question (resolv.conf's attempts): no retry takes the place of the late answer.
    const { agent, reporter } = buildAgent(parsed.config, {
      log,
      out: () => undefined,
      resolvConf: 'options attempts:1\n',
      metrics: null,
      now: Date.now,
    });
    const seen: number[] = [];
    reporter.subscribe((r) => {
      if (r.lane === 'dns') seen.push(r.endpoints ?? -1);
    });
    dns.endpoints = published(2);
    dns.serial = 1;
    const stop = new AbortController();
    const running = agent.run(stop.signal, { intervalMs: 60_000, respectTtl: false, random: () => 0, watchMs: 50 });
    try {
      // The first run, and the one the watch's first read of the serial brings (a change may have come between the two).
      await vi.waitFor(() => {
        expect(seen).toEqual([2, 2]);
      });
      const srv = (): number => dns.queries.filter((q) => q.type === 'SRV').length;
      const before = srv();
      // The zone changes; the question the serial brings is answered 1.5 s late, with what the zone held when it came.
      dns.srvDelays.push(1_500);
      dns.serial = 2;
      await vi.waitFor(() => {
        expect(srv()).toBe(before + 1);
      });
      // It changes again while that question is in flight: a newer question goes out at once, answered at once.
      dns.endpoints = published(3);
      dns.serial = 3;
      await vi.waitFor(() => {
        expect(seen).toEqual([2, 2, 3]);
      });
      expect(srv()).toBe(before + 2);
      // The older question's answer (2 endpoints) comes after: it is not applied, nor reported.
      await new Promise((r) => setTimeout(r, 1_700));
      expect(seen).toEqual([2, 2, 3]);
      expect(haproxy.servers.filter((s) => s.address.startsWith('127.0.2.')).map((s) => s.address)).toEqual([
        '127.0.2.1',
        '127.0.2.2',
        '127.0.2.3',
      ]);
    } finally {
      stop.abort();
      await running;
    }
  });
});
