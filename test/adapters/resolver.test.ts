import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Resolver, type DnsAnswer, type ResolverOptions } from '../../src/dns/resolver.ts';
import { DnsError } from '../../src/errors.ts';
import { FaultDns, published } from '../support/fault-dns.ts';

const SRV = '_http._tcp.web.default.svc.cluster.local';

describe('Resolver against a fault-injecting DNS server', () => {
  const good = new FaultDns(SRV);
  const bad = new FaultDns(SRV);
  const events: { ns: number; transport: string; result: string }[] = [];
  const dropped: string[] = [];
  const resolver = (over: Partial<ResolverOptions> = {}): Resolver =>
    new Resolver({
      nameservers: [{ host: '127.0.0.1', port: good.port }],
      search: [],
      ndots: 1,
      timeoutMs: 150,
      attempts: 1,
      observer: {
        query: (ns, transport, result) => events.push({ ns: ns.port, transport, result }),
        dropped: (_ns, _t, why) => dropped.push(why),
      },
      ...over,
    });

  beforeAll(async () => {
    await good.start();
    await bad.start();
  });
  afterAll(async () => {
    await good.stop();
    await bad.stop();
  });
  afterEach(() => {
    good.fault = 'none';
    bad.fault = 'none';
    events.length = 0;
    dropped.length = 0;
  });

  it('reads SRV records with their addresses from the additional section', async () => {
    good.endpoints = published(3);
    const a = await resolver().resolve({ kind: 'srv', name: SRV });
    expect(a.status === 'ok' ? a.endpoints.map((e) => `${e.address}:${String(e.port)} ${String(e.weight)}`) : a).toEqual([
      '127.0.2.1:8080 33',
      '127.0.2.2:8080 33',
      '127.0.2.3:8080 33',
    ]);
    expect(good.queries.filter((q) => q.type === 'A')).toHaveLength(0);
  });

  it('asks for A and AAAA records when the additional section lacks them', async () => {
    good.endpoints = published(2);
    good.fault = 'no-additionals';
    const a = await resolver().resolve({ kind: 'srv', name: SRV });
    expect(a.status === 'ok' ? a.endpoints.length : a).toBe(2);
    expect(good.queries.filter((q) => q.type === 'A' || q.type === 'AAAA').length).toBeGreaterThanOrEqual(4);
  });

  it('retries over TCP when the UDP answer is truncated', async () => {
    good.endpoints = published(3);
    good.fault = 'truncate-udp';
    const a = await resolver().resolve({ kind: 'srv', name: SRV });
    expect(a.status === 'ok' ? a.endpoints.length : a).toBe(3);
    expect(events.map((e) => `${e.transport} ${e.result}`)).toEqual(['udp truncated', 'tcp ok']);
  });

  it('gives up at once on a nameserver port where nothing listens, saying so once', async () => {
    // A timeout would be kind "timeout": "unreachable" says the port's refusal ended the query.
    const err: unknown = await resolver({ nameservers: [{ host: '127.0.0.1', port: 9 }], attempts: 2, timeoutMs: 5_000 })
      .resolve({ kind: 'srv', name: SRV })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DnsError);
    expect((err as DnsError).kind).toBe('unreachable');
    // The first question of a record goes over UDP and TCP at once: each refusal is said, once, whatever the attempts.
    const message = (err as Error).message;
    expect(message.startsWith(`SRV ${SRV}: no usable answer (`)).toBe(true);
    expect(message.split('127.0.0.1:9: nothing listens there (port unreachable) (udp)').length).toBe(2);
    expect(message.split('127.0.0.1:9: nothing listens there (connection refused) (tcp)').length).toBe(2);
  });

  it('counts a failure over TCP as tcp, not udp', async () => {
    const udpOnly = new FaultDns(SRV);
    await udpOnly.start();
    udpOnly.endpoints = published(3);
    udpOnly.fault = 'truncate-udp';
    // The TCP listener is closed: the UDP answer says "truncated", the TCP retry fails.
    await udpOnly.server.closeTcp();
    const r = resolver({ nameservers: [{ host: '127.0.0.1', port: udpOnly.port }] });
    await expect(r.resolve({ kind: 'srv', name: SRV })).rejects.toThrow(DnsError);
    // The first question goes over UDP and TCP at once; the TCP try after the truncation fails too.
    expect(events.map((e) => `${e.transport} ${e.result}`).sort()).toEqual(['tcp unreachable', 'tcp unreachable', 'udp truncated']);
    await udpOnly.stop();
  });

  it('brings a large answer through whole over TCP (300 endpoints, 47 KB uncompressed)', async () => {
    good.endpoints = published(300);
    const a = await resolver().resolve({ kind: 'srv', name: SRV });
    expect(a.status === 'ok' ? a.endpoints.length : a).toBe(300);
    expect(good.queries.at(-1)?.transport).toBe('tcp');
  });

  it('reassembles a TCP answer that arrives in pieces', async () => {
    good.endpoints = published(5);
    good.fault = 'tcp-in-pieces';
    const a = await resolver().resolve({ kind: 'srv', name: SRV });
    expect(a.status === 'ok' ? a.endpoints.length : a).toBe(5);
  });

  it.each([
    ['silent', 'timeout'],
    ['servfail', 'servfail'],
    ['refused', 'refused'],
  ] as const)('turns a %s server into a DnsError of kind %s', async (fault, kind) => {
    good.fault = fault;
    const err = await resolver()
      .resolve({ kind: 'srv', name: SRV })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DnsError);
    expect((err as DnsError).kind).toBe(kind);
  });

  it.each([
    ['garbage', 'malformed'],
    ['wrong-id', 'wrong-id'],
    ['wrong-question', 'wrong-question'],
  ] as const)('drops a %s reply, counts it, and never trusts it', async (fault, why) => {
    good.endpoints = published(2);
    good.fault = fault;
    const err = await resolver()
      .resolve({ kind: 'srv', name: SRV })
      .catch((e: unknown) => e);
    expect((err as DnsError).kind).toBe('timeout');
    expect(dropped).toContain(why);
  });

  it('tells NXDOMAIN and NODATA apart from failures', async () => {
    good.fault = 'nxdomain';
    expect((await resolver().resolve({ kind: 'srv', name: SRV })).status).toBe('nxdomain');
    good.fault = 'nodata';
    expect((await resolver().resolve({ kind: 'srv', name: SRV })).status).toBe('nodata');
  });

  it('fails over to the next nameserver and asks the one that answered first next time', async () => {
    good.endpoints = published(2);
    bad.fault = 'silent';
    const r = resolver({
      nameservers: [
        { host: '127.0.0.1', port: bad.port },
        { host: '127.0.0.1', port: good.port },
      ],
    });
    expect((await r.resolve({ kind: 'srv', name: SRV })).status).toBe('ok');
    const badQueries = bad.queries.length;
    expect((await r.resolve({ kind: 'srv', name: SRV })).status).toBe('ok');
    expect(bad.queries.length).toBe(badQueries);
  });

  it('tells which nameserver answered the record, and the round trip of the try it answered', async () => {
    good.endpoints = published(2);
    bad.fault = 'silent';
    const r = resolver({
      nameservers: [
        { host: '127.0.0.1', port: bad.port },
        { host: '127.0.0.1', port: good.port },
      ],
    });
    const srv = { kind: 'srv', name: SRV } as const;
    const host = { kind: 'host', host: SRV, port: 80 } as const;
    expect(r.answeredBy(srv)).toBeNull();
    await r.resolve(srv);
    await r.resolve(host);
    const heard = [r.answeredBy(srv), r.answeredBy(host)];
    expect(heard.map((h) => h?.ns.port)).toEqual([good.port, good.port]);
    for (const h of heard) {
      expect(Number.isFinite(h?.rttMs)).toBe(true);
      expect(h?.rttMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('resolves host:port records through the search list, IPv6 included', async () => {
    good.endpoints = [{ address: 'fd00::7', port: 80, weight: 1, priority: 0, host: 'web.default.svc.cluster.local' }];
    const r = resolver({ search: ['default.svc.cluster.local', 'cluster.local'], ndots: 5 });
    const a = await r.resolve({ kind: 'host', host: 'web', port: 8443 });
    expect(a.status === 'ok' ? a.endpoints.map((e) => [e.address, e.port]) : a).toEqual([['fd00::7', 8443]]);
  });

  it('follows a CNAME within the answer, and asks again when the answer stops at one', async () => {
    good.endpoints = published(2);
    good.alias = 'web-alias.cluster.local';
    try {
      const inline = await resolver().resolve({ kind: 'srv', name: 'web-alias.cluster.local' });
      expect(inline.status === 'ok' ? inline.endpoints.length : inline).toBe(2);
      good.fault = 'cname-only';
      const before = good.queries.length;
      const followed = await resolver().resolve({ kind: 'srv', name: 'web-alias.cluster.local' });
      expect(followed.status === 'ok' ? followed.endpoints.length : followed).toBe(2);
      // Each name asked once (a first question goes over UDP and TCP at once): the alias, then its target.
      expect([...new Set(good.queries.slice(before).map((q) => q.name))]).toEqual(['web-alias.cluster.local', SRV]);
    } finally {
      good.alias = null;
    }
  });

  it('caches SRV targets for their TTL when the additional section lacks them', async () => {
    good.endpoints = published(3);
    good.fault = 'no-additionals';
    const clock = { now: 0 };
    const r = resolver({ now: () => clock.now, random: () => 0.999_999 }); // expiry at the end of the TTL
    const targetQueries = (): number => good.queries.filter((q) => q.type === 'A' || q.type === 'AAAA').length;
    const before = targetQueries();
    await r.resolve({ kind: 'srv', name: SRV });
    const first = targetQueries();
    expect(first - before).toBe(6); // A and AAAA for each of the three targets
    expect(good.queries.slice(-6).every((q) => q.transport === 'tcp')).toBe(true); // pipelined on one connection
    clock.now += 4_999; // the records' TTL is 5 s
    await r.resolve({ kind: 'srv', name: SRV });
    expect(targetQueries()).toBe(first);
    clock.now += 1;
    await r.resolve({ kind: 'srv', name: SRV });
    expect(targetQueries()).toBe(first + 6);
  });

  it("asks only the address families wanted, and spreads the targets' expiry over the second half of their TTL", async () => {
    good.endpoints = published(4);
    good.fault = 'no-additionals';
    const clock = { now: 0 };
    let k = 0;
    const spread = [0, 0.999_999, 0, 0.999_999];
    const r = resolver({ now: () => clock.now, families: ['A'], random: () => spread[k++ % spread.length] ?? 0 });
    const targetQueries = (): string[] => good.queries.filter((q) => q.type === 'A' || q.type === 'AAAA').map((q) => q.type);
    const before = targetQueries().length;
    await r.resolve({ kind: 'srv', name: SRV });
    expect(targetQueries().slice(before)).toEqual(['A', 'A', 'A', 'A']);
    clock.now += 2_500; // half the TTL: the two targets with the earliest expiry are asked again, not all four
    await r.resolve({ kind: 'srv', name: SRV });
    expect(targetQueries().length - before).toBe(6);
  });

  it("says by its answer's generation whether it changed: the same while the answer says the same, a new one when it does not", async () => {
    good.endpoints = published(3);
    good.fault = 'no-additionals';
    const clock = { now: 0 };
    const r = resolver({ timeoutMs: 2_000, now: () => clock.now });
    const ask = (): Promise<DnsAnswer> => r.resolve({ kind: 'srv', name: SRV });
    const targetQueries = (): number => good.queries.filter((q) => q.type === 'A' || q.type === 'AAAA').length;
    const first = await ask();
    expect(first.generation).toEqual(expect.any(Number));
    expect((await ask()).generation).toBe(first.generation); // the same reply
    good.endpoints = [...good.endpoints].reverse();
    expect((await ask()).generation).toBe(first.generation); // the same records in another order
    clock.now += 60_000; // every target's address has run out: asked again, and the same
    const asked = targetQueries();
    expect((await ask()).generation).toBe(first.generation);
    expect(targetQueries()).toBeGreaterThan(asked);
    good.endpoints = published(4);
    const grown = await ask();
    expect(grown.status === 'ok' ? grown.endpoints.length : grown).toBe(4);
    expect(grown.generation).not.toBe(first.generation);
    expect((await ask()).generation).toBe(grown.generation);
  });

  it('asks hundreds of targets on one pipelined connection, and gets every answer', async () => {
    good.endpoints = published(300);
    good.fault = 'no-additionals';
    const before = good.queries.length;
    const a = await resolver({ timeoutMs: 2_000, families: ['A'] }).resolve({ kind: 'srv', name: SRV });
    expect(a.status === 'ok' ? a.endpoints.length : a).toBe(300);
    expect(good.queries.slice(before).filter((q) => q.type === 'A' && q.transport === 'tcp')).toHaveLength(300);
  });
});
