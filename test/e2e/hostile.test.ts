import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentArgs, runAgent, TestAgent } from '../support/agent.ts';
import { podName, TestBind, ZONE } from '../support/bind.ts';
import { TestHaproxy } from '../support/haproxy.ts';
import { freePort } from '../support/procs.ts';

const EVIL = `_http._tcp.evil.${ZONE}`;
/** A target whose labels hold newlines and spaces: legal on the wire, served by BIND with check-names ignore. */
const INJECTION = `a\\010disable\\032frontend\\032fe\\010set\\032server\\032be_app/srv6\\032addr\\032169.254.169.254\\032port\\03280\\010.${ZONE}.`;
const CONTRACT =
  /^(#[\x20-\x7e]*|set server [A-Za-z0-9_.:-]+\/[A-Za-z0-9_.:-]+ (addr [0-9a-f.:]+ port \d+|weight \d+|state (ready|drain|maint)))$/;

describe('hostile DNS answers (Debian HAProxy + BIND 9)', () => {
  const bind = new TestBind();
  let haproxy: TestHaproxy;
  let frontendPort = 0;

  beforeAll(async () => {
    await bind.start();
    frontendPort = await freePort();
    haproxy = new TestHaproxy({ frontendPort, serverLines: ['server-template srv 6 127.0.0.1:9 disabled'] });
    await haproxy.start();
    const legit = podName('127.0.1.1');
    await bind.update([
      `update add ${legit}. 5 IN A 127.0.1.1`,
      `update add ${INJECTION} 5 IN A 127.0.1.2`,
      `update add meta.${ZONE}. 5 IN A 169.254.169.254`,
      `update add self.${ZONE}. 5 IN A 127.0.0.1`,
      `update add zero.${ZONE}. 5 IN A 0.0.0.0`,
      `update add mcast.${ZONE}. 5 IN A 224.0.0.1`,
      `update add ${EVIL}. 5 IN SRV 0 10 8080 ${legit}.`,
      `update add ${EVIL}. 5 IN SRV 0 10 8080 ${INJECTION}`,
      `update add ${EVIL}. 5 IN SRV 0 10 80 meta.${ZONE}.`,
      `update add ${EVIL}. 5 IN SRV 0 10 ${String(frontendPort)} self.${ZONE}.`,
      `update add ${EVIL}. 5 IN SRV 0 10 8080 zero.${ZONE}.`,
      `update add ${EVIL}. 5 IN SRV 0 10 8080 mcast.${ZONE}.`,
    ]);
  });
  afterAll(async () => {
    await haproxy.stop();
    await bind.stop();
  });

  const args = (): string[] => [
    ...agentArgs(haproxy.socket, `127.0.0.1:${String(bind.port)}`, `be_app=${EVIL}`),
    '--allow-net',
    '127.0.1.0/24',
  ];

  it('fills HAProxy with the one legitimate endpoint and refuses the rest', async () => {
    const r = await runAgent(['--once', ...args()]);
    expect(r.code, r.stderr).toBe(0);
    expect(await haproxy.serving()).toEqual(['127.0.1.1:8080']);
    const refused = r.stderr
      .split('\n')
      .filter((l) => l.includes('"endpoint refused"'))
      .map((l) => (JSON.parse(l) as { endpoint: string; reason: string }).reason)
      .sort();
    expect(refused).toEqual(['invalid-name', 'link-local', 'loopback', 'multicast', 'unspecified']);
    expect(r.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f]/);
  });

  it('prints a dry run that, piped into HAProxy as the README pipes it, leaves HAProxy unchanged', async () => {
    const before = [...(await haproxy.servers()).entries()];
    const r = await runAgent(['--dry-run', '--once', ...args()]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(CONTRACT);
    // `... | grep -v '^#' | socat stdio unix:...`: every line that is not a comment goes to the socket.
    for (const l of lines.filter((x) => !x.startsWith('#'))) await haproxy.command(l);
    expect([...(await haproxy.servers()).entries()]).toEqual(before);
    expect(await haproxy.command('show stat fe 1 -1')).toContain(',OPEN,'); // the frontend was not paused
    expect(await haproxy.serving()).toEqual(['127.0.1.1:8080']);
  });

  it('does not churn an IPv4-mapped endpoint: it is written as HAProxy prints it back', async () => {
    const mapped = `mapped.${ZONE}`;
    await bind.update([
      `update add ${mapped}. 5 IN AAAA ::ffff:127.0.1.5`,
      `update delete ${EVIL}. SRV`,
      `update add ${EVIL}. 5 IN SRV 0 10 8080 ${mapped}.`,
    ]);
    const agent = new TestAgent([...args(), '--interval', '200ms', '--drain', '0']);
    try {
      await haproxy.waitServing(['::ffff:127.0.1.5:8080']);
      await agent.waitForLog('server change'); // the run that made the change has ended and said so
      const changes = agent.count('server change');
      await new Promise((r) => setTimeout(r, 1_500)); // seven intervals at rest
      expect(agent.count('server change'), JSON.stringify(agent.logs().filter((l) => l.msg === 'server change'))).toBe(changes);
    } finally {
      await agent.stop();
    }
  });
});
