/**
 * The figures of docs/decisions/: each footprint choice against its plain alternative.
 * `node bench/decisions.ts` (after `npm run build`; about a minute; BIND 9 on loopback for
 * the DNS part). Each variant runs in a Node process of its own, with the agent's flags,
 * the variants alternating round after round (other work on the machine moves single
 * readings); the median of the rounds is printed.
 *
 * - memory: resident memory (VmRSS, KiB) of an empty process, and of one that loads a
 *   choice or its alternative and uses it once (serves 20 requests, sets up the metrics,
 *   draws query IDs).
 * - start: wall and CPU time of `node dist/main.js --version` (the bin starts Node again
 *   with the flags) against Node given the flags directly.
 * - dns: CPU and wall time of one cold resolve of 1000 pods' SRV record and their
 *   addresses, the agent's resolver against node:dns (c-ares).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nodeFlags } from '../src/v8-flags.ts';
import { envInt, quantile } from './common.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const FLAGS = nodeFlags(Number(process.versions.node.split('.')[0]));
const ROUNDS = envInt('BENCH_DECISION_ROUNDS', 5, 1, 50);

const MEMORY = ['empty', 'node:net', 'node:http', 'prom-client lib/', 'prom-client', 'urandom', 'node:crypto'] as const;
type Memory = (typeof MEMORY)[number];

/**
 * What a child runs for each variant: plain JavaScript (`-e`), since a .ts file would load
 * Node's type stripper, which weighs more than most of what is measured.
 */
const SERVE = `
  const net = await import('node:net');
  const serve = async (server) => {
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = server.address().port;
    for (let i = 0; i < 20; i++)
      await new Promise((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => s.write('GET /metrics HTTP/1.1\\r\\nhost: x\\r\\nconnection: close\\r\\n\\r\\n'));
        s.on('data', () => undefined);
        s.on('close', resolve);
      });
    server.close();
  };`;
const VARIANTS: Readonly<Record<Memory, string>> = {
  empty: '',
  'node:net': `${SERVE}
    await serve(net.createServer((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\\r\\ncontent-length: 2\\r\\nconnection: close\\r\\n\\r\\nok'))));`,
  'node:http': `${SERVE}
    const http = await import('node:http');
    await serve(http.createServer({ headersTimeout: 5000, requestTimeout: 5000 }, (q, r) => r.end('ok')));`,
  'prom-client lib/': `
    const require = (await import('node:module')).createRequire(process.cwd() + '/package.json');
    for (const p of ['registry', 'counter', 'gauge', 'histogram']) require('prom-client/lib/' + p);`,
  'prom-client': `
    const require = (await import('node:module')).createRequire(process.cwd() + '/package.json');
    require('prom-client').collectDefaultMetrics();`,
  urandom: `
    const fs = await import('node:fs');
    const fd = fs.openSync('/dev/urandom', 'r');
    fs.readSync(fd, Buffer.alloc(2048));
    fs.closeSync(fd);`,
  'node:crypto': `(await import('node:crypto')).randomFillSync(Buffer.alloc(2048));`,
};
const REPORT = `
  await new Promise((r) => setTimeout(r, 200));
  console.log(/VmRSS:\\s+(\\d+)/.exec((await import('node:fs')).readFileSync('/proc/self/status', 'utf8'))[1]);`;

function memory(): void {
  const kib = new Map<Memory, number[]>(MEMORY.map((v) => [v, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const v of MEMORY) {
      const out = spawnSync(process.execPath, [...FLAGS, '--input-type=module', '-e', VARIANTS[v] + REPORT], {
        encoding: 'utf8',
        cwd: ROOT,
      });
      kib.get(v)?.push(Number(out.stdout.trim()));
    }
  }
  const median = (v: Memory): number => quantile(kib.get(v) ?? [], 0.5) / 1024;
  const empty = median('empty');
  console.log(`memory, VmRSS median of ${String(ROUNDS)} (MiB): empty process ${empty.toFixed(1)}`);
  for (const v of MEMORY.slice(1)) console.log(`  ${v}: ${median(v).toFixed(1)} (+${(median(v) - empty).toFixed(1)})`);
}

function start(): void {
  const runs = { bin: [] as number[], direct: [] as number[], binCpu: [] as number[], directCpu: [] as number[] };
  const main = `${ROOT}dist/main.js`;
  const time = (args: string[]): [number, number] => {
    const out = spawnSync('/usr/bin/time', ['-f', '%e %U %S', process.execPath, ...args], { encoding: 'utf8' });
    const [wall = NaN, user = NaN, sys = NaN] = (out.stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
    return [wall * 1000, (user + sys) * 1000];
  };
  for (let r = 0; r < ROUNDS * 2; r++) {
    const [bw, bc] = time([main, '--version']);
    const [dw, dc] = time([...FLAGS, main, '--version']);
    runs.bin.push(bw);
    runs.binCpu.push(bc);
    runs.direct.push(dw);
    runs.directCpu.push(dc);
  }
  const m = (xs: number[]): string => quantile(xs, 0.5).toFixed(0);
  console.log(`start, \`--version\`, median of ${String(ROUNDS * 2)} (ms):`);
  console.log(`  node dist/main.js (execve with the flags): ${m(runs.bin)} wall, ${m(runs.binCpu)} CPU`);
  console.log(`  node <flags> dist/main.js (no execve): ${m(runs.direct)} wall, ${m(runs.directCpu)} CPU`);
}

async function dns(): Promise<void> {
  const { promises: cares } = await import('node:dns');
  const { Resolver } = await import('../src/dns/resolver.ts');
  const { podsAt, SERVICE, TestBind } = await import('../test/support/bind.ts');
  const bind = new TestBind();
  await bind.start();
  await bind.setPods(podsAt(0, 1000), SERVICE, 0, 10);
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const own = async (): Promise<number> => {
    const r = new Resolver({
      nameservers: [{ host: '127.0.0.1', port: bind.port }],
      search: [],
      ndots: 1,
      timeoutMs: 5_000,
      attempts: 2,
      families: ['A'],
    });
    const answer = await r.resolve({ kind: 'srv', name: SERVICE });
    return answer.status === 'ok' ? answer.endpoints.length : 0;
  };
  const viaCares = async (): Promise<number> => {
    const r = new cares.Resolver({ timeout: 5_000, tries: 2 });
    r.setServers([`127.0.0.1:${String(bind.port)}`]);
    const srv = await r.resolveSrv(SERVICE);
    // 64 at a time: all 1000 at once lose replies to BIND (ETIMEOUT).
    let n = 0;
    for (let i = 0; i < srv.length; i += 64)
      n += (await Promise.all(srv.slice(i, i + 64).map((s) => r.resolve4(s.name, { ttl: true })))).length;
    return n;
  };
  const figures = { own: [] as number[], cares: [] as number[], ownWall: [] as number[], caresWall: [] as number[] };
  try {
    for (let r = 0; r < ROUNDS + 1; r++) {
      for (const [key, f] of [
        ['own', own],
        ['cares', viaCares],
      ] as const) {
        const [c0, t0] = [cpu(), performance.now()];
        if ((await f()) !== 1000) throw new Error(`${key}: not 1000 endpoints`);
        // The first round warms the code up.
        if (r > 0) {
          figures[key].push(cpu() - c0);
          figures[key === 'own' ? 'ownWall' : 'caresWall'].push(performance.now() - t0);
        }
      }
    }
  } finally {
    await bind.stop();
  }
  const m = (xs: number[]): string => quantile(xs, 0.5).toFixed(0);
  console.log(`dns, a cold resolve of 1000 pods (SRV over TCP, 1000 A), median of ${String(ROUNDS)} (ms):`);
  console.log(`  the agent's resolver: ${m(figures.own)} CPU, ${m(figures.ownWall)} wall`);
  console.log(`  node:dns (c-ares), 64 questions at a time: ${m(figures.cares)} CPU, ${m(figures.caresWall)} wall`);
}

if (process.argv[2] === 'dns') await dns();
else {
  const parts = (process.env['BENCH_DECISION_PARTS'] ?? 'memory,start,dns').split(',');
  if (parts.includes('memory')) memory();
  if (parts.includes('start')) start();
  // With the agent's flags, as the agent runs its resolver.
  if (parts.includes('dns'))
    spawnSync(process.execPath, [...FLAGS, fileURLToPath(import.meta.url), 'dns'], { stdio: 'inherit', cwd: ROOT });
}
