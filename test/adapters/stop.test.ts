import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildAgent } from '../../src/agent/compose.ts';
import { parseConfig } from '../../src/cli/config.ts';
import { Resolver } from '../../src/dns/resolver.ts';
import { DnsError } from '../../src/errors.ts';
import { FakeHaproxy } from '../support/fake-haproxy.ts';
import { FaultDns, published } from '../support/fault-dns.ts';
import { captureLogs } from '../support/logs.ts';

const SRV = '_http._tcp.web.default.svc.cluster.local';

/** Lets sockets and callbacks run (setImmediate is not faked), `n` times. */
async function settle(n = 50): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** Until `done()`, letting sockets run, at most `n` turns of the event loop. */
async function until(done: () => boolean, n = 2_000): Promise<void> {
  for (let i = 0; i < n && !done(); i++) await new Promise((r) => setImmediate(r));
}

/**
 * Stopping ends every DNS question in flight at once. The clock is fake and never moves:
 * a question that ended at its deadline instead of at the stop would not end at all.
 */
describe('the agent stopping with DNS questions in flight', () => {
  const dns = new FaultDns(SRV);
  beforeAll(async () => {
    await dns.start();
  });
  afterAll(async () => {
    await dns.stop();
  });
  afterEach(() => {
    vi.useRealTimers();
    dns.reset();
    dns.queries.length = 0;
  });

  it('ends a question to a silent server at once, with no answer counted as a failure', async () => {
    dns.fault = 'silent';
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const results: string[] = [];
    const r = new Resolver({
      nameservers: [{ host: '127.0.0.1', port: dns.port }],
      search: [],
      ndots: 1,
      timeoutMs: 60_000,
      attempts: 2,
      observer: { query: (_ns, _t, result) => results.push(result), dropped: () => undefined },
    });
    const stop = new AbortController();
    let ended: unknown = null;
    const asked = r.resolve({ kind: 'srv', name: SRV }, { signal: stop.signal }).catch((e: unknown) => (ended = e));
    await until(() => dns.queries.length >= 2); // over UDP and TCP at once
    stop.abort();
    await settle();
    expect(ended).toBeInstanceOf(DnsError);
    expect((ended as DnsError).kind).toBe('aborted');
    expect(results).toEqual([]);
    await asked;
  });

  it('ends a pipelined lookup of the targets at once', async () => {
    dns.fault = 'no-additionals';
    dns.endpoints = published(3);
    dns.silentTypes.add('A');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const r = new Resolver({
      nameservers: [{ host: '127.0.0.1', port: dns.port }],
      search: [],
      ndots: 1,
      timeoutMs: 60_000,
      attempts: 2,
      families: ['A'],
    });
    const stop = new AbortController();
    let ended: unknown = null;
    const asked = r.resolve({ kind: 'srv', name: SRV }, { signal: stop.signal }).catch((e: unknown) => (ended = e));
    await until(() => dns.queries.filter((q) => q.type === 'A').length >= 3);
    stop.abort();
    await settle();
    expect((ended as DnsError | null)?.kind).toBe('aborted');
    await asked;
  });

  it("ends the agent's run at once on stop, and says nothing of DNS failing", async () => {
    dns.fault = 'silent';
    const haproxy = new FakeHaproxy();
    await haproxy.start();
    try {
      const { log, lines } = captureLogs();
      const parsed = parseConfig(
        [
          ...['--socket', haproxy.socket, '--backend', `be_app=${SRV}`, '--nameserver', `127.0.0.1:${String(dns.port)}`],
          ...['--allow-net', '127.0.0.0/8', '--dns-timeout', '60s'],
        ],
        {},
      );
      if (parsed.config === null) throw new Error('no config');
      const { agent } = buildAgent(parsed.config, { log, out: () => undefined, resolvConf: null, metrics: null, now: () => 1_000_000 });
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const stop = new AbortController();
      let stopped = false;
      const running = agent.run(stop.signal, { intervalMs: 1_000, respectTtl: false, random: () => 0, watchMs: 0 }).then(() => {
        stopped = true;
      });
      await until(() => dns.queries.length >= 2 && haproxy.received.length > 0);
      stop.abort();
      await until(() => stopped);
      expect(stopped).toBe(true);
      await running;
      expect(lines().filter((l) => String(l.msg).startsWith('DNS failing'))).toEqual([]);
    } finally {
      await haproxy.stop();
    }
  });
});
