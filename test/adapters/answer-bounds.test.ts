import dnsPacket, { type DecodedPacket } from 'dns-packet';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildAgent } from '../../src/agent/compose.ts';
import { parseConfig } from '../../src/cli/config.ts';
import { LOOKUP_SPARE } from '../../src/core/caps.ts';
import { Resolver } from '../../src/dns/resolver.ts';
import { DnsServer, RCODE, type Published } from '../support/dns-server.ts';
import { FakeHaproxy } from '../support/fake-haproxy.ts';
import { FaultDns, published } from '../support/fault-dns.ts';
import { captureLogs } from '../support/logs.ts';

const SRV = '_http._tcp.web.default.svc.cluster.local';
const BIG = 'big.web.default.svc.cluster.local';
const RECORDS = 20;
const ADDRESSES = 4000;

/** 4000 addresses, 10.1.0.0 up. */
const addresses = Array.from({ length: ADDRESSES }, (_, i) => `10.1.${String(i >> 8)}.${String(i & 255)}`);

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter((l) => l !== '');
  return Buffer.concat([...parts.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
}

/**
 * An A answer of `list` for the question of `query`, each record's name a compression
 * pointer to the question (16 bytes a record, as a real server writes it: dns-packet does
 * not compress, and 4000 records would not fit 64 KB without).
 */
function compressedA(query: DecodedPacket, list: readonly string[]): Buffer {
  const q = query.questions?.[0];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.id ?? 0, 0);
  header.writeUInt16BE(0x8000 | dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(list.length, 6);
  const question = Buffer.concat([encodeName(q?.name ?? ''), Buffer.from([0, 1, 0, 1])]);
  const records = Buffer.alloc(16 * list.length);
  list.forEach((address, i) => {
    const at = 16 * i;
    records.writeUInt16BE(0xc00c, at); // the question's name, at offset 12
    records.writeUInt16BE(1, at + 2); // A
    records.writeUInt16BE(1, at + 4); // IN
    records.writeUInt32BE(5, at + 6); // TTL
    records.writeUInt16BE(4, at + 10);
    address.split('.').forEach((octet, k) => records.writeUInt8(Number(octet), at + 12 + k));
  });
  return Buffer.concat([header, question, records]);
}

/**
 * A DNS server whose SRV answer names one target 20 times (ports 8000-8019), and whose
 * target has 4000 A records: a legal 64 KB answer whose product is 80,000 endpoints.
 * `shuffled`: the A records in another order, as servers rotate them.
 */
function amplifier(shuffled: boolean): DnsServer {
  const list = shuffled ? [...addresses].reverse() : addresses;
  return new DnsServer((query, transport) => {
    const q = query.questions?.[0];
    const name = (q?.name ?? '').toLowerCase();
    const empty = (rcode: number): Buffer =>
      dnsPacket.encode({
        type: 'response',
        id: query.id ?? 0,
        flags: dnsPacket.AUTHORITATIVE_ANSWER | rcode,
        questions: query.questions ?? [],
      });
    const truncated = (): Buffer =>
      dnsPacket.encode({ type: 'response', id: query.id ?? 0, flags: dnsPacket.TRUNCATED_RESPONSE, questions: query.questions ?? [] });
    if (name === SRV && q?.type === 'SRV') {
      if (transport === 'udp') return truncated();
      const order = Array.from({ length: RECORDS }, (_, i) => (shuffled ? RECORDS - 1 - i : i));
      return dnsPacket.encode({
        type: 'response',
        id: query.id ?? 0,
        flags: dnsPacket.AUTHORITATIVE_ANSWER,
        questions: query.questions ?? [],
        answers: order.map((i) => ({ type: 'SRV', name: SRV, ttl: 5, data: { priority: 0, weight: 10, port: 8000 + i, target: BIG } })),
      });
    }
    if (name === BIG && q?.type === 'A') return transport === 'udp' ? truncated() : compressedA(query, list);
    if (name === BIG) return empty(RCODE.NOERROR);
    return empty(RCODE.NXDOMAIN);
  });
}

describe('an answer that multiplies: 20 SRV records naming one target of 4000 A records', () => {
  const servers = [amplifier(false), amplifier(true)];
  beforeAll(async () => {
    for (const s of servers) await s.start();
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });
  const resolver = (server: DnsServer, maxEndpoints?: number): Resolver =>
    new Resolver({
      nameservers: [{ host: '127.0.0.1', port: server.port }],
      search: [],
      ndots: 1,
      timeoutMs: 2_000,
      attempts: 1,
      ...(maxEndpoints === undefined ? {} : { maxEndpoints }),
    });
  const keys = (a: Awaited<ReturnType<Resolver['resolve']>>): string[] =>
    a.status === 'ok' ? a.endpoints.map((e) => `${e.address}:${String(e.port)}`).sort() : [];

  it('makes 64 addresses of the target into endpoints per record, and counts the rest, by default', async () => {
    const [plain] = servers;
    if (plain === undefined) throw new Error('no server');
    const a = await resolver(plain).resolve({ kind: 'srv', name: SRV });
    expect(a.status).toBe('ok');
    if (a.status !== 'ok') return;
    expect(a.endpoints).toHaveLength(RECORDS * 64);
    expect(a.dropped).toBe(RECORDS * (ADDRESSES - 64));
  });

  it('stops at --max-endpoints, and keeps the same endpoints whatever order the records came in', async () => {
    const [plain, shuffled] = servers;
    if (plain === undefined || shuffled === undefined) throw new Error('no server');
    const a = await resolver(plain, 1000).resolve({ kind: 'srv', name: SRV });
    const b = await resolver(shuffled, 1000).resolve({ kind: 'srv', name: SRV });
    expect(a.status === 'ok' ? a.endpoints.length : a).toBe(1000);
    expect(a.status === 'ok' ? a.dropped : a).toBe(RECORDS * ADDRESSES - 1000);
    expect(keys(b)).toEqual(keys(a));
  });

  it('bounds a host:port record of 4000 addresses the same way', async () => {
    const [plain, shuffled] = servers;
    if (plain === undefined || shuffled === undefined) throw new Error('no server');
    const a = await resolver(plain, 100).resolve({ kind: 'host', host: BIG, port: 80 });
    expect(a.status === 'ok' ? [a.endpoints.length, a.dropped] : a).toEqual([100, ADDRESSES - 100]);
    expect(keys(await resolver(shuffled, 100).resolve({ kind: 'host', host: BIG, port: 80 }))).toEqual(keys(a));
  });
});

describe('at --max-endpoints, the endpoints in force keep their places', () => {
  const dns = new FaultDns(SRV);
  let haproxy: FakeHaproxy;
  beforeAll(async () => {
    await dns.start();
  });
  afterAll(async () => {
    await dns.stop();
  });
  beforeEach(async () => {
    haproxy = new FakeHaproxy('be_app', 5);
    await haproxy.start();
  });
  afterEach(async () => {
    await haproxy.stop();
    dns.reset();
    dns.queries.length = 0;
  });
  /** Pod k of the service: 127.0.2.k, its own name (127-0-2-1 sorts before 127-0-2-10). */
  const pods = (...ks: number[]): Published[] => ks.flatMap((k) => published(1, 8080, k));

  it('drops a newcomer whose target sorts first instead of draining a pod still in DNS', async () => {
    const { log, lines, count } = captureLogs();
    const parsed = parseConfig(
      [
        ...['--socket', haproxy.socket, '--backend', `be_app=${SRV}`, '--nameserver', `127.0.0.1:${String(dns.port)}`],
        ...['--allow-net', '127.0.0.0/8', '--max-endpoints', '3', '--dns-timeout', '500ms', '--socket-timeout', '300ms'],
      ],
      {},
    );
    if (parsed.config === null) throw new Error('no config');
    const { agent } = buildAgent(parsed.config, { log, out: () => undefined, resolvConf: null, metrics: null, now: () => 1_000_000 });
    dns.endpoints = pods(10, 20, 30);
    await agent.pass();
    expect(haproxy.servers.filter((s) => s.address !== '127.0.0.1').map((s) => s.address)).toEqual([
      '127.0.2.10',
      '127.0.2.20',
      '127.0.2.30',
    ]);
    const commands = haproxy.sets().length;
    dns.endpoints = pods(1, 10, 20, 30);
    await agent.pass();
    // Nothing changes in HAProxy: pod 30 stays ready, pod 1 is left out, said and counted.
    expect(haproxy.sets().slice(commands)).toEqual([]);
    expect(lines().filter((l) => l.msg === 'server change' && l['reason'] === 'endpoint left DNS')).toEqual([]);
    expect(count('server change')).toBe(3);
    expect(
      lines()
        .filter((l) => l['kind'] === 'endpoints-capped')
        .map((l) => [l['kept'], l['dropped']]),
    ).toEqual([[3, 1]]);
    // Pod 30 leaves DNS: pod 1 takes the room it left.
    dns.endpoints = pods(1, 10, 20);
    await agent.pass();
    expect(lines().filter((l) => l.msg === 'server change' && l['reason'] === 'endpoint left DNS')).toHaveLength(1);
    expect(
      lines()
        .filter((l) => l.msg === 'server change' && l['reason'] === 'new endpoint')
        .map((l) => l['to']),
    ).toContainEqual(expect.stringContaining('127.0.2.1:8080'));
  });

  it('past the cap, asks the addresses of the targets it could take, not of every target', async () => {
    dns.fault = 'no-additionals';
    dns.endpoints = published(100);
    const r = new Resolver({
      nameservers: [{ host: '127.0.0.1', port: dns.port }],
      search: [],
      ndots: 1,
      timeoutMs: 2_000,
      attempts: 1,
      families: ['A'],
      maxEndpoints: 3,
    });
    const a = await r.resolve({ kind: 'srv', name: SRV });
    expect(a.status === 'ok' ? [a.endpoints.length, a.dropped] : a).toEqual([3, 97]);
    expect(dns.queries.filter((q) => q.type === 'A')).toHaveLength(3 + LOOKUP_SPARE);
  });
});
