import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Resolver, Superseded, type ResolverOptions } from '../../src/dns/resolver.ts';
import { DnsError } from '../../src/errors.ts';
import { FaultDns, published } from '../support/fault-dns.ts';

const SRV = '_http._tcp.web.default.svc.cluster.local';

/**
 * A slow or busy DNS server: the resolver must degrade the way a stub resolver does, not
 * abandon a question it asked and ask it again behind the same queue.
 */
describe('Resolver against a slow or busy DNS server', () => {
  const slow = new FaultDns(SRV);
  const silent = new FaultDns(SRV);
  const events: { port: number; result: string }[] = [];
  const resolver = (over: Partial<ResolverOptions> = {}): Resolver =>
    new Resolver({
      nameservers: [{ host: '127.0.0.1', port: slow.port }],
      search: [],
      ndots: 1,
      timeoutMs: 5_000,
      attempts: 2,
      retryMaxMs: 1_000,
      observer: {
        query: (ns, _transport, result) => events.push({ port: ns.port, result }),
        dropped: () => undefined,
      },
      ...over,
    });

  /**
   * Asked once and answered at once, so that the record is known: its next question goes over
   * UDP alone. Returns once the first question's TCP try has closed, with the counts cleared.
   */
  const known = async (r: Resolver): Promise<Resolver> => {
    const accepted = slow.server.tcpAccepted;
    await r.resolve({ kind: 'srv', name: SRV });
    await vi.waitFor(() => {
      expect(slow.server.tcpSettled(accepted + 1)).toBe(true);
    });
    slow.queries.length = 0;
    events.length = 0;
    return r;
  };

  beforeAll(async () => {
    await slow.start();
    await silent.start();
    silent.fault = 'silent';
  });
  afterAll(async () => {
    await slow.stop();
    await silent.stop();
  });
  afterEach(() => {
    slow.reset();
    slow.queries.length = 0;
    silent.queries.length = 0;
    events.length = 0;
  });

  it('takes the late answer to its first try while the retry is out (answers 2.5 s late, default settings)', async () => {
    slow.endpoints = published(3);
    // The server answers the first question only, 2.5 s late: a resolver that abandoned it at a timeout never gets an answer.
    slow.late = { ms: 2_500, types: ['SRV'], answerFirstOnly: true };
    const a = await resolver().resolve({ kind: 'srv', name: SRV });
    expect(a.status === 'ok' ? a.endpoints.length : a).toBe(3);
    // A record never answered is asked over UDP and TCP at once; the retry went out at the interval, over TCP.
    expect(slow.queries.filter((q) => q.type === 'SRV').map((q) => q.transport)).toEqual(['udp', 'tcp', 'tcp']);
    expect(events.map((e) => e.result)).toEqual(['ok', 'unanswered', 'unanswered']);
  }, 10_000);

  it('asks a record never answered over UDP and TCP at once, then over TCP alone while its answer needs TCP', async () => {
    slow.endpoints = published(30); // larger than a datagram
    slow.fault = 'silent-udp'; // datagrams dropped: only the TCP try can answer before the deadline
    const r = resolver({ timeoutMs: 1_000, retryMaxMs: 5_000, attempts: 1 });
    const a = await r.resolve({ kind: 'srv', name: SRV });
    expect(a.status === 'ok' ? a.endpoints.length : a).toBe(30);
    expect(slow.queries.filter((q) => q.type === 'SRV').map((q) => q.transport)).toEqual(['udp', 'tcp']);
    slow.queries.length = 0;
    await r.resolve({ kind: 'srv', name: SRV });
    expect(slow.queries.filter((q) => q.type === 'SRV').map((q) => q.transport)).toEqual(['tcp']);
  });

  it('sends the retry to the next nameserver while the first still listens', async () => {
    slow.endpoints = published(2);
    const r = resolver({
      nameservers: [
        { host: '127.0.0.1', port: slow.port },
        { host: '127.0.0.1', port: silent.port },
      ],
      attempts: 1,
      retryMaxMs: 200,
    });
    await known(r);
    slow.late = { ms: 600, types: ['SRV'], answerFirstOnly: true };
    const a = await r.resolve({ kind: 'srv', name: SRV });
    expect(a.status).toBe('ok');
    expect(silent.queries.map((q) => q.type)).toEqual(['SRV']); // asked before the slow server's answer came
    expect(events).toEqual([
      { port: slow.port, result: 'ok' },
      { port: silent.port, result: 'unanswered' },
    ]);
  });

  it('waits longer before a retry once it has seen a fast server turn slow (smoothed round trips)', async () => {
    slow.endpoints = published(1);
    const r = resolver({ retryMaxMs: 5_000 });
    const srvQuestions = async (): Promise<number> => {
      slow.queries.length = 0;
      await r.resolve({ kind: 'srv', name: SRV });
      return slow.queries.filter((q) => q.type === 'SRV').length;
    };
    for (let i = 0; i < 5; i++) await srvQuestions(); // answered at once: the retry timeout falls to its floor
    slow.late = { ms: 400, types: ['SRV'], answerFirstOnly: false };
    expect(await srvQuestions()).toBe(2); // the first slow answer: a retry went out meanwhile
    for (let i = 0; i < 4; i++) await srvQuestions();
    expect(await srvQuestions()).toBe(1); // learnt: no retry for an answer that comes when this server's answers come
  }, 15_000);

  it('sends the retry of a late SRV question over TCP, where a large answer comes whole', async () => {
    slow.endpoints = published(2);
    const r = await known(resolver({ timeoutMs: 3_000, retryMaxMs: 200 })); // small enough for UDP
    slow.endpoints = published(30); // truncated over UDP
    slow.late = { ms: 600, types: ['SRV'], answerFirstOnly: false };
    const a = await r.resolve({ kind: 'srv', name: SRV });
    expect(a.status === 'ok' ? a.endpoints.length : a).toBe(30);
    // The UDP try's truncated answer came after the TCP retry was out: no third try.
    expect(slow.queries.filter((q) => q.type === 'SRV').map((q) => q.transport)).toEqual(['udp', 'tcp']);
  });

  it('gives the TCP try after a truncated answer the full time again: the server did answer', async () => {
    slow.endpoints = published(2);
    const r = await known(resolver({ timeoutMs: 1_000, retryMaxMs: 5_000, attempts: 1 })); // small enough for UDP
    slow.endpoints = published(30);
    slow.late = { ms: 700, types: ['SRV'], answerFirstOnly: false };
    // No retry before the truncated answer; the TCP answer comes 1.4 s after the start, past the 1 s deadline.
    const a = await r.resolve({ kind: 'srv', name: SRV });
    expect(a.status === 'ok' ? a.endpoints.length : a).toBe(30);
    expect(slow.queries.filter((q) => q.type === 'SRV').map((q) => q.transport)).toEqual(['udp', 'tcp']);
  });

  it('keeps the addresses of known targets when their lookups time out, and asks again the next run', async () => {
    let now = 1_000_000;
    const r = resolver({ now: () => now, timeoutMs: 300 });
    slow.endpoints = published(2);
    slow.fault = 'no-additionals';
    const first = await r.resolve({ kind: 'srv', name: SRV });
    expect(first.status === 'ok' ? first.endpoints.map((e) => e.address) : first).toEqual(['127.0.2.1', '127.0.2.2']);
    now += 60_000; // every target's address has run out
    slow.silentTypes.add('A');
    slow.silentTypes.add('AAAA');
    slow.queries.length = 0;
    const held = await r.resolve({ kind: 'srv', name: SRV });
    expect(held.status === 'ok' ? held.endpoints.map((e) => e.address) : held).toEqual(['127.0.2.1', '127.0.2.2']);
    expect(slow.queries.filter((q) => q.type === 'A').length).toBeGreaterThan(0);
  });

  it('fails (so the last good answer is held) rather than say "no records" when no target could be looked up', async () => {
    const r = resolver({ timeoutMs: 300 });
    slow.endpoints = published(2);
    slow.fault = 'no-additionals';
    slow.silentTypes.add('A');
    slow.silentTypes.add('AAAA');
    await expect(r.resolve({ kind: 'srv', name: SRV })).rejects.toBeInstanceOf(DnsError);
  });

  it('gives a run one deadline for all its questions: slow NXDOMAINs for each name of the search list do not add up', async () => {
    slow.fault = 'nxdomain';
    slow.late = { ms: 400, types: ['SRV'], answerFirstOnly: false };
    // Four names to try (three through the search list, then the name as it is), each answered 400 ms late, within a 500 ms
    // timeout: a run of 1 s at most (twice the timeout) ends while the third is asked.
    const r = resolver({ search: ['a.example', 'b.example', 'c.example'], timeoutMs: 500, attempts: 1 });
    const err: unknown = await r.resolve({ kind: 'srv', name: 'web' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DnsError);
    expect((err as DnsError).kind).toBe('timeout');
    expect([...new Set(slow.queries.map((q) => q.name))]).toEqual(['web.a.example', 'web.b.example', 'web.c.example']);
  });

  it("never applies an older question's answer over a newer one's: the older, come late, is Superseded", async () => {
    slow.endpoints = published(2);
    const r = await known(resolver({ attempts: 1 })); // one try a question: no retry to muddle the order
    // The first question's answer says what the zone held when it was asked, and leaves 600 ms late; the second's at once.
    slow.srvDelays.push(600, 0);
    const older = r.resolve({ kind: 'srv', name: SRV }).catch((e: unknown) => e);
    await vi.waitFor(() => {
      expect(slow.queries.filter((q) => q.type === 'SRV')).toHaveLength(1);
    });
    slow.endpoints = published(3); // the zone changes while the first question is in flight
    const newer = await r.resolve({ kind: 'srv', name: SRV });
    expect(newer.status === 'ok' ? newer.endpoints.length : newer).toBe(3);
    const stale = await older;
    expect(stale).toBeInstanceOf(Superseded);
    // What the record says now is the newer answer, handed back as the same object.
    expect(await r.resolve({ kind: 'srv', name: SRV })).toBe(newer);
  });

  it("applies an older question's answer that comes first, then the newer one's", async () => {
    slow.endpoints = published(2);
    const r = await known(resolver({ attempts: 1 }));
    slow.srvDelays.push(200, 500);
    const older = r.resolve({ kind: 'srv', name: SRV });
    await vi.waitFor(() => {
      expect(slow.queries.filter((q) => q.type === 'SRV')).toHaveLength(1);
    });
    slow.endpoints = published(3);
    const newer = r.resolve({ kind: 'srv', name: SRV });
    const first = await older;
    expect(first.status === 'ok' ? first.endpoints.length : first).toBe(2);
    const second = await newer;
    expect(second.status === 'ok' ? second.endpoints.length : second).toBe(3);
  });
});
