import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Resolver } from '../../src/dns/resolver.ts';
import type { DnsAnswer } from '../../src/dns/answer.ts';
import { FaultDns, published } from '../support/fault-dns.ts';

const SRV = '_http._tcp.web.default.svc.cluster.local';
/** The records' TTL in FaultDns is 5 s: a serial settles 7 s after it is first seen. */
const SETTLE_MS = 7_000;

describe('--serial-trust: an unchanged zone serial stands in for the records (resolver against a DNS server)', () => {
  const dns = new FaultDns(SRV);
  let clock = 1_000_000;
  let resolver: Resolver;
  const make = (maxMs = 30_000, freshMs = 0): Resolver =>
    new Resolver({
      nameservers: [{ host: '127.0.0.1', port: dns.port }],
      search: [],
      ndots: 1,
      timeoutMs: 500,
      attempts: 1,
      now: () => clock,
      // freshMs 0, as with --watch 0: every pass reads the serial itself.
      serialTrust: { maxMs, freshMs },
    });
  /** Questions of a type, counted by their UDP tries: a record's first question also goes over TCP, whose try the UDP answer may end before it is sent. */
  const asked = (type: string): number => dns.queries.filter((q) => q.type === type && q.transport === 'udp').length;
  const endpoints = (a: DnsAnswer): string[] => (a.status === 'ok' ? a.endpoints.map((e) => `${e.address}:${String(e.port)}`) : []);
  /** One pass, `ms` after the last. */
  const pass = async (ms = 1_000): Promise<DnsAnswer> => {
    clock += ms;
    return resolver.resolve({ kind: 'srv', name: SRV });
  };
  /** The serial moves once, then stands long enough to be trusted, and a full answer is asked after that. */
  const settle = async (): Promise<void> => {
    await pass(); // the first answer
    await pass(); // the serial read first
    dns.serial = (dns.serial ?? 0) + 1;
    await pass();
    await pass(SETTLE_MS);
  };

  beforeAll(async () => {
    await dns.start();
  });
  afterAll(async () => {
    await dns.stop();
  });
  beforeEach(() => {
    dns.fault = 'none';
    dns.endpoints = published(3);
    dns.serial = 1;
    dns.soaAuthoritative = true;
    dns.queries.length = 0;
    dns.dropNext.clear();
    resolver = make();
  });

  it('asks only the SOA once the serial has moved and settled, and asks all again when it moves', async () => {
    await settle();
    const srv = asked('SRV');
    const first = await pass();
    expect(await pass()).toBe(first);
    expect(asked('SRV')).toBe(srv);
    dns.endpoints = published(2);
    dns.serial = 3;
    expect(endpoints(await pass())).toEqual(['127.0.2.1:8080', '127.0.2.2:8080']);
    expect(asked('SRV')).toBe(srv + 1);
  });

  it('does not trust a serial never seen to move (a hosted zone that keeps it at 1)', async () => {
    for (let i = 0; i < 12; i++) await pass();
    dns.endpoints = published(1);
    expect(endpoints(await pass())).toEqual(['127.0.2.1:8080']);
    expect(asked('SRV')).toBe(13);
  });

  it('asks every pass while the serial has stood for less than the TTL plus 2 s', async () => {
    await pass();
    await pass();
    dns.serial = 2;
    await pass();
    const srv = asked('SRV');
    for (let i = 0; i < 6; i++) await pass(); // 6 s: not settled; every pass is a full answer
    expect(asked('SRV')).toBe(srv + 6);
  });

  it('does not trust an SOA without the authoritative bit, nor one whose zone does not hold the targets', async () => {
    dns.soaAuthoritative = false;
    await settle();
    let srv = asked('SRV');
    await pass();
    expect(asked('SRV')).toBe(srv + 1);

    dns.soaAuthoritative = true;
    dns.endpoints = published(2).map((e) => ({ ...e, host: `${e.address.replaceAll('.', '-')}.pods.example.org` }));
    resolver = make();
    await settle();
    srv = asked('SRV');
    await pass();
    expect(asked('SRV')).toBe(srv + 1);
  });

  it('asks the record again every --serial-trust, without its targets while it says the same', async () => {
    dns.fault = 'no-additionals'; // the targets' addresses come from A and AAAA questions
    resolver = make(10_000);
    await settle();
    const [srv, a] = [asked('SRV'), asked('A')];
    for (let i = 0; i < 9; i++) await pass();
    expect([asked('SRV'), asked('A')]).toEqual([srv, a]);
    await pass(); // 10 s after the last full answer
    expect([asked('SRV'), asked('A')]).toEqual([srv + 1, a]);
    await pass();
    expect(asked('SRV')).toBe(srv + 1);
  });

  it('stops trusting a serial that stood still while the records changed', async () => {
    resolver = make(10_000);
    await settle();
    dns.endpoints = published(1); // the serial stays
    for (let i = 0; i < 9; i++) {
      const a = await pass();
      expect(a.status === 'ok' && a.serialDistrusted).toBeFalsy(); // the serial stands: nothing is known against it yet
    }
    const caught = await pass();
    expect(endpoints(caught)).toEqual(['127.0.2.1:8080']); // caught by the full ask every --serial-trust
    // ... and said: the answer carries it, for the lane's warning and metric.
    expect(caught.status === 'ok' && caught.serialDistrusted).toBe(true);
    const srv = asked('SRV');
    await pass(SETTLE_MS);
    await pass();
    expect(asked('SRV')).toBe(srv + 2);
  });

  it('asks each serial from a fresh source port (RFC 5452): a forged SOA must guess the port too, not the ID alone', async () => {
    dns.server.udpSources.length = 0;
    for (let i = 0; i < 4; i++) await resolver.serial(SRV);
    const ports = dns.server.udpSources.slice(-4);
    expect(ports).toHaveLength(4);
    expect(new Set(ports).size).toBe(4);
  });

  it('asks a serial dropped by a busy server again while the first try listens, not after the whole wait', async () => {
    await pass(); // a round trip seen: the retry time is its floor, 100 ms, within the serial's 500 ms
    dns.dropNext.set('SOA', 1);
    expect(await resolver.serial(SRV)).toBe(1);
    expect(asked('SOA')).toBe(2);
  });

  it('asks every pass with --serial-trust 0', async () => {
    resolver = make(0);
    await settle();
    const srv = asked('SRV');
    await pass();
    await pass();
    expect(asked('SRV')).toBe(srv + 2);
    expect(asked('SOA')).toBe(0);
  });

  it('asks the record when the serial cannot be read', async () => {
    await settle();
    const srv = asked('SRV');
    dns.serial = null; // an SOA question now gets no SOA
    await pass();
    expect(asked('SRV')).toBe(srv + 1);
  });

  it('with the watch on, does not hold a run up for a serial: a stale read means the record is asked', async () => {
    resolver = make(30_000, 500);
    for (let i = 0; i < 3; i++) await pass();
    expect([asked('SOA'), asked('SRV')]).toEqual([0, 3]);
    await resolver.serial(SRV); // the watch reads it
    dns.serial = 2;
    await resolver.serial(SRV);
    clock += 8_000;
    await resolver.serial(SRV);
    await pass(0); // a full answer after the serial settled
    clock += 10;
    await resolver.serial(SRV); // and a read after it
    await pass(0);
    expect(asked('SRV')).toBe(4);
    await pass(1_000); // the watch's read is 1 s old
    expect([asked('SOA'), asked('SRV')]).toEqual([4, 5]);
  });
});
