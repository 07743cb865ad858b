import dnsPacket, { type DecodedPacket } from 'dns-packet';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resolver } from '../../src/dns/resolver.ts';
import { agentHarness, SRV } from '../support/agent-harness.ts';
import { DnsServer } from '../support/dns-server.ts';
import { FakeHaproxy } from '../support/fake-haproxy.ts';
import type { captureLogs } from '../support/logs.ts';

/** Every line `--dry-run` may print: a comment of printable ASCII, or a command the agent would send. */
const CONTRACT =
  /^(#[\x20-\x7e]*|set server [A-Za-z0-9_.:-]+\/[A-Za-z0-9_.:-]+ (addr [0-9a-f.:]+ port \d+|weight \d+|state (ready|drain|maint)))$/;

/**
 * An SRV answer whose target has the given label bytes, with its A record beside it.
 * dns-packet writes names from strings, so the answer is built with placeholder labels of
 * the same lengths and the bytes are put in afterwards (dns-packet does not compress names).
 */
function hostileReply(query: DecodedPacket, labels: readonly Uint8Array[], address: string): Buffer {
  const placeholder = labels.map((l) => 'q'.repeat(l.length)).join('.');
  const bytes = dnsPacket.encode({
    type: 'response',
    id: query.id ?? 0,
    flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED,
    questions: query.questions ?? [],
    answers: [{ type: 'SRV', name: SRV, ttl: 5, data: { priority: 0, weight: 10, port: 8080, target: placeholder } }],
    additionals: [{ type: 'A', name: placeholder, ttl: 5, data: address }],
  });
  const wire = Buffer.concat([...labels.flatMap((l) => [Buffer.from([l.length]), Buffer.alloc(l.length, 'q')]), Buffer.from([0])]);
  const real = Buffer.concat([...labels.flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]), Buffer.from([0])]);
  for (let at = bytes.indexOf(wire); at >= 0; at = bytes.indexOf(wire, at + 1)) real.copy(bytes, at);
  return bytes;
}

describe('hostile DNS answers never reach HAProxy, a terminal or a pipe unescaped', () => {
  let labels: readonly Uint8Array[] = [];
  let address = '10.1.0.1';
  const dns = new DnsServer((q) => (q.questions?.[0]?.type === 'SRV' ? hostileReply(q, labels, address) : null));
  beforeAll(async () => {
    await dns.start();
  });
  afterAll(async () => {
    await dns.stop();
  });

  const dryRun = async (): Promise<{ printed: string[]; haproxy: FakeHaproxy; logs: ReturnType<typeof captureLogs> }> => {
    const haproxy = new FakeHaproxy();
    haproxy.version = '2.6.12';
    const resolver = new Resolver({
      nameservers: [{ host: '127.0.0.1', port: dns.port }],
      search: [],
      ndots: 1,
      timeoutMs: 500,
      attempts: 1,
    });
    const { agent, printed, logs } = agentHarness([haproxy], { dryRun: true, resolve: (spec) => resolver.resolve(spec), clock: Date.now });
    await agent.pass();
    return { printed, haproxy, logs };
  };

  it('prints only comments and commands, for any bytes in the SRV target (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 63 }), { minLength: 1, maxLength: 3 }), async (ls) => {
        labels = ls;
        const { printed, haproxy } = await dryRun();
        for (const line of printed) expect(line).toMatch(CONTRACT);
        expect(haproxy.writes()).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });

  it('refuses a target that is not a host name, and logs it once in presentation form', async () => {
    const enc = new TextEncoder();
    labels = [enc.encode('a\ndisable frontend fe\nset server be_app/srv9 addr 169'), enc.encode('254'), enc.encode('cluster')];
    const { printed, logs } = await dryRun();
    expect(printed.filter((l) => l.startsWith('set server'))).toEqual([]);
    const refused = logs.lines().filter((l) => l.msg === 'endpoint refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]?.['endpoint']).toBe(
      'a\\010disable\\032frontend\\032fe\\010set\\032server\\032be_app\\047srv9\\032addr\\032169.254.cluster',
    );
    expect(refused[0]?.['reason']).toBe('invalid-name');
  });

  it.each(['169.254.169.254', '0.0.0.0', '224.0.0.1', '255.255.255.255', '127.0.0.1'])(
    'never makes a server of %s, and says which flag would allow it when one can',
    async (a) => {
      labels = [new TextEncoder().encode('pod'), new TextEncoder().encode('web')];
      address = a;
      const { printed, logs } = await dryRun();
      address = '10.1.0.1';
      expect(printed.filter((l) => l.startsWith('set server'))).toEqual([]);
      const refused = logs.lines().find((l) => l.msg === 'endpoint refused');
      expect(refused?.['endpoint']).toBe(`${a}:8080 (pod.web)`);
      if (a === '127.0.0.1') expect(refused?.['hint']).toContain('--allow-net 127.0.0.0/8');
    },
  );
});
