import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Resolver, type ResolverOptions } from '../../src/dns/resolver.ts';
import { FaultDns, published } from '../support/fault-dns.ts';

const SRV = '_http._tcp.web.default.svc.cluster.local';
const ALIAS = '_http._tcp.alias.default.svc.cluster.local';
const PODS = 20;
const ANSWERS = 30;

/**
 * What the resolver keeps is bounded by what the answers in force name: DNS that says new
 * names every answer (a pod's own name for each pod of a rollout, a CNAME to a new name)
 * must not make any cache grow with the answers.
 */
describe('the resolver keeps only what the answers in force name', () => {
  const dns = new FaultDns(SRV);
  const resolver = (over: Partial<ResolverOptions> = {}): Resolver =>
    new Resolver({ nameservers: [{ host: '127.0.0.1', port: dns.port }], search: [], ndots: 1, timeoutMs: 2_000, attempts: 1, ...over });
  /** The i-th answer's pods: PODS of them, every one with a name (and address) no answer before had. */
  const generation = (i: number): ReturnType<typeof published> => published(PODS, 8080, 1 + i * PODS);

  beforeAll(async () => {
    await dns.start();
  });
  afterAll(async () => {
    await dns.stop();
  });
  afterEach(() => {
    dns.reset();
    dns.alias = null;
    dns.serial = null;
    dns.service = SRV;
  });

  it('forgets a target that left the answers: new pod names every answer, addresses in the additional section', async () => {
    const r = resolver();
    for (let i = 0; i < ANSWERS; i++) {
      dns.endpoints = generation(i);
      const a = await r.resolve({ kind: 'srv', name: SRV });
      expect(a.status === 'ok' ? a.endpoints.length : a).toBe(PODS);
      expect(r.cacheSizes()).toMatchObject({
        answers: 1,
        srvNames: 1,
        targets: PODS,
        targetGlue: PODS,
        targetEntries: 0,
        targetRecords: 1,
      });
    }
  });

  it('forgets a target that left the answers: new pod names every answer, addresses looked up', async () => {
    dns.fault = 'no-additionals';
    let now = 0;
    const r = resolver({ now: () => now });
    for (let i = 0; i < ANSWERS; i++) {
      dns.endpoints = generation(i);
      const a = await r.resolve({ kind: 'srv', name: SRV });
      expect(a.status === 'ok' ? a.endpoints.length : a).toBe(PODS);
      // A and AAAA for each pod named now, and no other.
      expect(r.cacheSizes()).toMatchObject({ targets: PODS, targetEntries: PODS, targetQuestions: 2 * PODS, targetReplies: 2 * PODS });
      now += 1_000; // within the targets' TTL: the next answer's pods are new, not these run out
    }
  });

  it('forgets a name that left the CNAME chain: the SRV name a CNAME to a new name every answer', async () => {
    dns.alias = ALIAS;
    dns.fault = 'cname-only'; // the CNAME alone: its target is asked in a question of its own
    dns.serial = 1;
    let now = 0;
    // The zone serial is read and trusted as --serial-trust does: its tables are keyed by the answer's name.
    const r = resolver({ now: () => now, serialTrust: { maxMs: 30_000, freshMs: 0 } });
    for (let i = 0; i < ANSWERS; i++) {
      dns.service = `_http._tcp.web-${String(i)}.default.svc.cluster.local`;
      dns.endpoints = generation(i);
      dns.serial = i + 1;
      const a = await r.resolve({ kind: 'srv', name: ALIAS });
      expect(a.status === 'ok' ? [a.name, a.endpoints.length] : a).toEqual([dns.service, PODS]);
      const sizes = r.cacheSizes();
      // The alias and the name it points to now; the answer's name alone in the serial's tables.
      expect(sizes).toMatchObject({ answers: 1, srvNames: 2, targets: PODS });
      for (const table of ['serialSeen', 'serialCovered', 'serialMoved', 'serialDistrusted'])
        expect(sizes[table] ?? Infinity).toBeLessThanOrEqual(1);
      now += 1_000;
    }
  });

  it('keeps what a failed question asked beside what the last answer went through, and nothing more', async () => {
    dns.alias = ALIAS;
    dns.fault = 'cname-only';
    dns.endpoints = generation(0);
    const r = resolver({ timeoutMs: 200 });
    const a = await r.resolve({ kind: 'srv', name: ALIAS });
    expect(a.status).toBe('ok');
    expect(r.cacheSizes()).toMatchObject({ srvNames: 2, targets: PODS });
    // DNS fails: the names of the answer in force stay (the lane holds it), its targets with them.
    dns.silentTypes.add('SRV');
    for (let i = 0; i < 3; i++) await expect(r.resolve({ kind: 'srv', name: ALIAS })).rejects.toThrow();
    expect(r.cacheSizes()).toMatchObject({ srvNames: 2, targets: PODS });
  });
});
