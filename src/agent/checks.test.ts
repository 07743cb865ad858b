import { describe, expect, it } from 'vitest';
import { ADMIN, FakeHaproxy, slot, type FakeServer } from '../../test/support/fake-haproxy.ts';
import { parseBackend } from '../config/values.ts';
import { findingText, severityOf } from '../core/findings.ts';
import type { Endpoint } from '../core/types.ts';
import { checkProcess, restoredWithoutAddress } from './checks.ts';

const spec = parseBackend('be_app=_http._tcp.web.default.svc.cluster.local');
const options = { cookieKey: null, firstContact: true, weights: 'srv' } as const;

const ep = (n: number): Endpoint => ({
  target: `pod-${String(n)}.web`,
  address: `10.0.0.${String(n)}`,
  port: 8080,
  weight: 10,
  priority: 0,
  ttl: 5,
});

/** A slot as a server-state-file brings it back: ready, on `address`, with the saved port. */
const restored = (name: string, address: string, extra: Partial<FakeServer> = {}): FakeServer =>
  slot(name, { address, port: 8080, admin: ADMIN.ready, opState: 2, ...extra });

/** What HAProxy 2.6 with these backends shows, read by the runtime. */
const observe = (backends: Record<string, FakeServer[]>) => {
  const h = new FakeHaproxy(backends);
  h.version = '2.6.12';
  return h.port().observe(Object.keys(backends));
};

describe('checkProcess: how the slots are declared', () => {
  it('takes slots declared with a name and an address to start from, and says nothing of them', async () => {
    const named = (name: string): FakeServer => slot(name, { fqdn: 'slot.invalid' });
    expect(checkProcess('memory', await observe({ be_app: [named('srv1'), named('srv2')] }), [spec], options)).toEqual([]);
  });

  it("stops at slots HAProxy's own resolver fills from an SRV record, naming them, the record and the declaration that works", async () => {
    const record = '_http._tcp.web.default.svc.cluster.local';
    const resolved = (name: string): FakeServer => slot(name, { srvRecord: record });
    const findings = checkProcess(
      'memory',
      await observe({ be_app: [resolved('srv1'), resolved('srv2'), slot('other')] }),
      [spec],
      options,
    );
    expect(findings.map((f) => [f.kind, severityOf(f)])).toEqual([['slots-resolved-by-haproxy', 'fatal']]);
    expect(findingText(findings[0] ?? { kind: 'no-answer-yet', backend: '', socket: '' })).toBe(
      `backend be_app: servers srv1,srv2 are filled by HAProxy's own resolver from ${record}: it and the agent would overwrite each other's addresses. Declare the slots the agent fills without "resolvers" and without an SRV record, e.g. "server-template srv 10 slot.invalid:9 init-addr last,127.0.0.1 check disabled"`,
    );
  });
});

describe('restoredWithoutAddress: how a new process brought its slots back', () => {
  it('names IP-literal slots that came back ready on an address DNS does not give (a state file restores port and state only)', async () => {
    const snap = await observe({
      be_app: [restored('srv1', '127.0.0.1'), restored('srv2', '127.0.0.1', { admin: ADMIN.drain }), slot('srv3')],
    });
    const findings = restoredWithoutAddress('memory', snap, [{ spec, endpoints: [ep(1), ep(2)] }]);
    expect(findings).toEqual([
      {
        kind: 'restored-without-address',
        backend: 'be_app',
        socket: 'memory',
        servers: ['srv1', 'srv2'],
        example: 'srv1 on 127.0.0.1:8080',
      },
    ]);
    expect(severityOf(findings[0] ?? { kind: 'no-answer-yet', backend: '', socket: '' })).toBe('warning');
  });

  it('says nothing of slots a state file restored in full (declared with a name), or that serve what DNS gives', async () => {
    const snap = await observe({
      be_app: [restored('srv1', '10.0.0.1', { fqdn: 'slot.invalid' }), restored('srv2', '10.0.0.2'), slot('srv3')],
    });
    expect(restoredWithoutAddress('memory', snap, [{ spec, endpoints: [ep(1), ep(2)] }])).toEqual([]);
  });

  it('says nothing before DNS has answered: there is nothing to compare with', async () => {
    const snap = await observe({ be_app: [restored('srv1', '127.0.0.1')] });
    expect(restoredWithoutAddress('memory', snap, [{ spec, endpoints: null }])).toEqual([]);
  });

  it('lists at most ten servers in its line, and how many more', () => {
    const servers = Array.from({ length: 12 }, (_, i) => `srv${String(i + 1)}`);
    expect(
      findingText({ kind: 'restored-without-address', backend: 'be_app', socket: 'memory', servers, example: 'srv1 on 127.0.0.1:8080' }),
    ).toMatch(
      /^backend be_app: the new HAProxy process started with servers srv1,srv2,srv3,srv4,srv5,srv6,srv7,srv8,srv9,srv10 and 2 more ready/,
    );
  });
});
