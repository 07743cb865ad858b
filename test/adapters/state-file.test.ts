import { execFile, execFileSync } from 'node:child_process';
import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
  ftruncateSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildAgent } from '../../src/agent/compose.ts';
import { parseConfig } from '../../src/cli/config.ts';
import { encodeState, STATE_VERSION } from '../../src/core/saved-state.ts';
import type { Endpoint } from '../../src/core/types.ts';
import { AgentMetrics } from '../../src/observability/metrics.ts';
import { readStateFile, removeLeftoverTemporaries, writeStateFile } from '../../src/state/file.ts';
import { victimFolders } from '../support/victim-folders.ts';
import { FakeHaproxy } from '../support/fake-haproxy.ts';
import { FaultDns, published } from '../support/fault-dns.ts';
import { captureLogs } from '../support/logs.ts';

const FILE_TS = new URL('../../src/state/file.ts', import.meta.url).href;

/**
 * readStateFile in a child process, so that a read that blocks (a FIFO) or never ends
 * (/dev/zero) fails the test instead of hanging it: killed after a few seconds, and its
 * address space bounded.
 */
function readInChild(path: string, maxBytes: number): Promise<string> {
  const script = `import { readStateFile } from ${JSON.stringify(FILE_TS)};
const r = readStateFile(${JSON.stringify(path)}, ${String(maxBytes)});
process.stdout.write(r instanceof Error ? 'refused: ' + r.message : 'read ' + String(r === null ? r : r.length));`;
  return new Promise((resolve) => {
    execFile(
      '/bin/sh',
      ['-c', 'ulimit -v 3000000 && exec "$0" "$@"', process.execPath, '--input-type=module', '-e', script],
      { timeout: 5_000, killSignal: 'SIGKILL' },
      (err, stdout) => {
        resolve(err === null ? stdout : `failed: ${err.message.split('\n')[0] ?? ''} ${stdout}`);
      },
    );
  });
}

describe('the state file on disk', () => {
  const at = victimFolders('hda-state-');

  it('replaces the file whole, 0600, and leaves no temporary file beside it', () => {
    const path = join(at.dir, 'agent.state');
    writeStateFile(path, 'first\n');
    writeStateFile(path, 'second\n');
    expect(readFileSync(path, 'utf8')).toBe('second\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(at.dir)).toEqual(['agent.state']);
  });

  it('writes through no link planted at a predictable name, nor through a link at the path', () => {
    const path = join(at.dir, 'agent.state');
    const planted = [`${path}.tmp`, join(at.dir, '.agent.state.tmp'), join(at.dir, '.agent.state.0000000000000000.tmp'), `${path}~`];
    for (const p of planted) symlinkSync(at.victim, p);
    symlinkSync(at.victim, path);
    writeStateFile(path, 'new\n');
    expect(lstatSync(path).isFile()).toBe(true); // the link itself was replaced
    expect(readFileSync(path, 'utf8')).toBe('new\n');
    for (const p of planted) expect(readlinkSync(p)).toBe(at.victim); // left alone
    expect(readdirSync(at.dir)).toHaveLength(planted.length + 1); // and no temporary file left
  });

  it('removes its temporary file when the rename fails, and throws', () => {
    const path = join(at.dir, 'agent.state');
    mkdirSync(path); // a folder where the file goes: rename(2) refuses
    writeFileSync(join(path, 'inside'), '');
    expect(() => {
      writeStateFile(path, 'x');
    }).toThrow();
    expect(readdirSync(at.dir)).toEqual(['agent.state']);
  });

  it('throws when the folder cannot be written', () => {
    expect(() => {
      writeStateFile(join(at.dir, 'missing-folder', 'agent.state'), 'x');
    }).toThrow();
  });

  it('removes the temporaries a crash left, regular files of its own pattern only', () => {
    const path = join(at.dir, 'agent.state');
    const leftover = join(at.dir, '.agent.state.0123456789abcdef.tmp');
    writeFileSync(leftover, 'half');
    const link = join(at.dir, '.agent.state.fedcba9876543210.tmp');
    symlinkSync(at.victim, link);
    mkdirSync(join(at.dir, '.agent.state.aaaaaaaaaaaaaaaa.tmp'));
    for (const other of ['.agent.state.tmp', '.other.0123456789abcdef.tmp', 'agent.state']) writeFileSync(join(at.dir, other), '');
    expect(removeLeftoverTemporaries(path)).toBe(1);
    expect(readdirSync(at.dir).sort()).toEqual([
      '.agent.state.aaaaaaaaaaaaaaaa.tmp',
      '.agent.state.fedcba9876543210.tmp',
      '.agent.state.tmp',
      '.other.0123456789abcdef.tmp',
      'agent.state',
    ]);
    expect(removeLeftoverTemporaries(join(at.dir, 'missing-folder', 'agent.state'))).toBe(0);
  });

  it('reads a missing file as null, a regular one as its text', () => {
    expect(readStateFile(join(at.dir, 'none'), 100)).toBeNull();
    writeFileSync(join(at.dir, 'agent.state'), 'saved\n');
    expect(readStateFile(join(at.dir, 'agent.state'), 100)).toBe('saved\n');
  });

  it('refuses a symbolic link at the path, to a regular file or to /dev/zero, without reading through it', async () => {
    symlinkSync(at.victim, join(at.dir, 'to-file'));
    expect(readStateFile(join(at.dir, 'to-file'), 100)).toEqual(
      new Error('a symbolic link; refused (expected a regular file: a link is not followed)'),
    );
    symlinkSync('/dev/zero', join(at.dir, 'to-zero'));
    expect(await readInChild(join(at.dir, 'to-zero'), 100)).toBe(
      'refused: a symbolic link; refused (expected a regular file: a link is not followed)',
    );
  });

  it('refuses a FIFO at the path at once, without waiting for a writer', async () => {
    const fifo = join(at.dir, 'agent.state');
    execFileSync('mkfifo', [fifo]);
    expect(await readInChild(fifo, 100)).toBe('refused: a FIFO; refused (expected a regular file)');
  });

  it('refuses a folder and a device', () => {
    expect(readStateFile(at.dir, 100)).toEqual(new Error('a folder; refused (expected a regular file)'));
    expect(readStateFile('/dev/null', 100)).toEqual(new Error('a device; refused (expected a regular file)'));
  });

  it('refuses a file larger than the bound, by its size, without reading it', () => {
    const path = join(at.dir, 'agent.state');
    const fd = openSync(path, 'w');
    ftruncateSync(fd, 100 * 1024 * 1024); // 100 MiB, sparse: no disk taken
    closeSync(fd);
    const r = readStateFile(path, 10_000);
    expect(r instanceof Error ? r.message : `read ${String(r?.length)} characters`).toBe(
      '104857600 bytes, more than the 10000 this agent can have written; refused, not read',
    );
    writeFileSync(path, 'x'.repeat(10_001));
    expect(readStateFile(path, 10_000)).toBeInstanceOf(Error);
    writeFileSync(path, 'x'.repeat(10_000));
    expect(readStateFile(path, 10_000)).toHaveLength(10_000);
  });
});

describe('a state file read at start, held to the bounds of a DNS answer (DNS failing)', () => {
  const SRV = '_http._tcp.web.default.svc.cluster.local';
  const NOW = 1_000_000_000;
  let dns: FaultDns;
  let haproxy: FakeHaproxy | null = null;
  beforeEach(async () => {
    dns = new FaultDns(SRV);
    // SERVFAIL, not silence: the saved answer stays in force the same way, without a time-out per pass.
    dns.fault = 'servfail';
    await dns.start();
  });
  afterEach(async () => {
    await dns.stop();
    await haproxy?.stop();
    haproxy = null;
  });

  /** `n` pods of their own targets, 10.1.0.0 up, as the agent saved them a second ago. */
  const savedPods = (n: number): string => {
    const endpoints: Endpoint[] = Array.from({ length: n }, (_, i) => ({
      target: `pod-${String(i)}.web.default.svc.cluster.local`,
      address: `10.${String(1 + (i >> 16))}.${String((i >> 8) & 255)}.${String(i & 255)}`,
      port: 8080,
      weight: 1,
      priority: 0,
      ttl: 5,
    }));
    return encodeState({ version: STATE_VERSION, backends: { be_app: { record: SRV, at: NOW - 1_000, endpoints } }, drains: {} });
  };

  async function start(slots: number, saved: string, extra: readonly string[]) {
    haproxy = new FakeHaproxy('be_app', slots);
    await haproxy.start();
    const { log, lines } = captureLogs();
    const metrics = new AgentMetrics(false);
    const parsed = parseConfig(
      [
        '--socket',
        haproxy.socket,
        '--backend',
        `be_app=${SRV}`,
        '--nameserver',
        `127.0.0.1:${String(dns.port)}`,
        '--allow-net',
        '10.0.0.0/8',
        '--dns-timeout',
        '100ms',
        '--state-file',
        '/nonexistent/agent.state',
        ...extra,
      ],
      {},
    ).config;
    if (parsed === null) throw new Error('no config');
    const { agent } = buildAgent(parsed, { log, out: () => undefined, resolvConf: null, metrics, now: () => NOW, savedState: saved });
    return { agent, lines, metrics, haproxy };
  }

  it('gives HAProxy --max-endpoints of the saved endpoints, says once what it left out, and counts it', async () => {
    const { agent, lines, metrics, haproxy: h } = await start(10, savedPods(10), ['--max-endpoints', '3']);
    await agent.pass();
    await agent.pass();
    expect(h.ready()).toEqual(['10.1.0.0:8080', '10.1.0.1:8080', '10.1.0.2:8080']);
    const said = lines().filter((l) => l.msg === 'state file: going on without it');
    expect(said.map((l) => l['problem'])).toEqual([
      'ignored in part: backend be_app: answer holds more endpoints than the agent takes: 3 kept, 7 left out (at most --max-endpoints 3 per backend, and 64 addresses per SRV target)',
    ]);
    expect(await metrics.registry.metrics()).toContain('haproxy_dns_agent_endpoints_dropped{backend="be_app"} 7');
  });

  it('writes no log line that grows with the file: 65,000 saved endpoints, two slots', async () => {
    const text = savedPods(65_000);
    expect(text.length).toBeGreaterThan(2_000_000);
    const { agent, lines, haproxy: h } = await start(2, text, []);
    await agent.pass();
    expect(h.ready()).toHaveLength(2);
    const longest = Math.max(...lines().map((l) => JSON.stringify(l).length));
    expect(longest).toBeLessThan(2_000);
    const unplaced = lines().find((l) => l['kind'] === 'endpoints-without-slot');
    expect([unplaced?.['missingSlots'], (unplaced?.['endpoints'] as unknown[] | undefined)?.length]).toEqual([4094, 10]);
  });
});

describe('when the state file is written', () => {
  let dns: FaultDns | null = null;
  let haproxy: FakeHaproxy | null = null;
  afterEach(async () => {
    await dns?.stop();
    await haproxy?.stop();
    dns = null;
    haproxy = null;
  });

  it("writes a host:port backend's answer when its addresses change, not on every run", async () => {
    dns = new FaultDns('_http._tcp.web.default.svc.cluster.local');
    await dns.start();
    const [pod] = published(1);
    if (pod === undefined) throw new Error('no pod');
    dns.endpoints = [pod];
    haproxy = new FakeHaproxy('be_app', 2);
    await haproxy.start();
    const config = parseConfig(
      [
        '--socket',
        haproxy.socket,
        '--backend',
        `be_app=${pod.host}:8080`,
        '--nameserver',
        `127.0.0.1:${String(dns.port)}`,
        '--allow-net',
        '127.0.0.0/8',
        '--state-file',
        '/nonexistent/agent.state',
        '--drain',
        '0s', // no drain to keep: the answer alone is written
      ],
      {},
    ).config;
    if (config === null) throw new Error('no config');
    const written: string[] = [];
    const { agent } = buildAgent(config, {
      log: captureLogs().log,
      out: () => undefined,
      resolvConf: null,
      metrics: null,
      now: () => 1_000_000_000, // no time passes: nothing to refresh
      writeState: (text) => written.push(text),
    });
    for (let i = 0; i < 3; i++) await agent.pass();
    expect(written).toHaveLength(1);
    dns.endpoints = [{ ...pod, address: '127.0.2.9' }];
    await agent.pass();
    expect(written).toHaveLength(2);
    expect(written.at(-1)).toContain('127.0.2.9');
  });
});
