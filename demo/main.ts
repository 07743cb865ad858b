/**
 * `npm run demo`: the agent's main job, on this machine, in about 25 seconds. A real
 * HAProxy (from PATH) with four server-template slots, "pods" as HTTP servers on
 * 127.0.1.x, an embedded DNS server publishing them as a headless service that scales
 * 1 -> 3 -> 2 -> 4, the agent in between, and a sticky client. It stops by itself.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { exchange } from '../src/haproxy/socket.ts';
import { parseServersState, parseShowStat } from '../src/haproxy/parse.ts';
import { DnsServer, serviceReply, type Published } from '../test/support/dns-server.ts';
import { httpGet } from '../test/support/http-client.ts';
import { parseLogLines } from '../test/support/logs.ts';

/** The agent as an operator runs it: the built CLI (`npm run build`). */
const AGENT_BIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

const SERVICE = '_http._tcp.web.default.svc.cluster.local';
const COOKIE_KEY = 'demo-secret';
const STEPS: readonly { at: number; pods: readonly number[]; note: string }[] = [
  { at: 0, pods: [1], note: 'one pod' },
  { at: 4_000, pods: [1, 2, 3], note: 'scaled to 3: new pods take free slots' },
  { at: 10_000, pods: [], note: "scaled to 2: the sticky client's pod is removed and drains" },
  { at: 17_000, pods: [], note: 'scaled to 4: nothing that lives moves' },
];
const END_MS = 24_000;
/** The sticky client starts once the service has three pods. */
const CLIENT_STARTS_MS = 5_500;

async function main(): Promise<number> {
  if (spawnSync('haproxy', ['-v']).error !== undefined) {
    process.stderr.write(
      'demo: HAProxy not found on PATH. Install it: sudo apt-get install -y haproxy (or run scripts/dev demo as root)\n',
    );
    return 1;
  }
  const dir = mkdtempSync(join(tmpdir(), 'haproxy-dns-agent-demo-'));
  const socket = join(dir, 'admin.sock');
  const [frontPort, podPort] = [await freePort(), await freePort()];
  const pods = new Map<number, http.Server>();
  const published: Published[] = [];
  const dns = new DnsServer((q, transport) => serviceReply(q, transport, SERVICE, published));
  let haproxy: ChildProcess | null = null;
  const stop = new AbortController();
  const events: string[] = [];
  const jsonLines: string[] = [];
  const onLogLine = (line: string): void => {
    if (line.startsWith('{')) jsonLines.push(line);
    for (const e of parseLogLines(line)) {
      const text = (k: string): string => (typeof e[k] === 'string' ? e[k] : '');
      if (e.msg === 'server change') events.push(`${text('server')}: ${text('from')} -> ${text('to')} (${text('reason')})`);
      else if (e.msg !== 'starting' && e.msg !== undefined) events.push(e.msg);
    }
  };
  let agent: ChildProcess | null = null;
  try {
    await dns.start();
    writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig(socket, frontPort));
    haproxy = spawn('haproxy', ['-W', '-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(socket); i++) await sleep(50, stop.signal);

    const args = [
      '--socket',
      socket,
      '--backend',
      `be_app=${SERVICE}`,
      '--nameserver',
      `127.0.0.1:${String(dns.port)}`,
      '--interval',
      '500ms',
      '--drain',
      '3s',
      '--cookie-key',
      COOKIE_KEY,
      // The demo's pods listen on loopback, which the agent refuses unless allowed.
      '--allow-net',
      '127.0.1.0/24',
    ];
    commandLine = `haproxy-dns-agent ${args.join(' ')}`;
    agent = spawn(process.execPath, [AGENT_BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (agent.stderr !== null) createInterface({ input: agent.stderr }).on('line', onLogLine);

    const started = Date.now();
    let step = -1;
    let cookie: string | undefined;
    let stickyPod = 0;
    const client: { pod: number; from: number; to: number; n: number }[] = [];
    while (Date.now() - started < END_MS) {
      const t = Date.now() - started;
      const next = STEPS[step + 1];
      if (next !== undefined && t >= next.at) {
        step++;
        const wanted = podsFor(step, stickyPod);
        await setPods(wanted, pods, published, podPort);
        events.push(`DNS: ${next.note} (${wanted.map((n) => `pod-${String(n)}`).join(', ')})`);
      }
      if (step >= 1 && t >= CLIENT_STARTS_MS) {
        const reply = await httpGet(frontPort, cookie, 2_000).catch(() => null);
        const r = reply === null ? null : { pod: Number(reply.body), cookie: reply.cookie };
        if (r !== null) {
          if (cookie === undefined) stickyPod = r.pod;
          if (r.cookie !== null) cookie = r.cookie;
          const last = client.at(-1);
          if (last?.pod === r.pod) Object.assign(last, { to: t, n: last.n + 1 });
          else client.push({ pod: r.pod, from: t, to: t, n: 1 });
        }
      }
      render(t, await servers(socket), published, client, events, cookie, jsonLines);
      await sleep(500, stop.signal);
    }
    stop.abort();
    process.stdout.write('\nDemo over: HAProxy, the pods and the DNS server are stopped.\n');
    return 0;
  } finally {
    stop.abort();
    agent?.kill('SIGTERM');
    haproxy?.kill('SIGUSR1');
    await Promise.all([...pods.values()].map((s) => new Promise((r) => s.close(r))));
    await dns.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Which pods the service has at each step; the third step removes the sticky client's pod. */
function podsFor(step: number, stickyPod: number): number[] {
  const s = STEPS[step];
  if (s === undefined) return [];
  if (step === 2) return [1, 2, 3].filter((n) => n !== (stickyPod || 2));
  if (step === 3)
    return [1, 2, 3, 4]
      .filter((n) => n !== (stickyPod || 2))
      .concat([5])
      .slice(0, 4);
  return [...s.pods];
}

async function setPods(wanted: readonly number[], pods: Map<number, http.Server>, published: Published[], port: number): Promise<void> {
  for (const n of wanted) {
    if (pods.has(n)) continue;
    const server = http.createServer((_req, res) => {
      served.set(n, (served.get(n) ?? 0) + 1);
      res.writeHead(200, { connection: 'close' }).end(String(n));
    });
    await new Promise<void>((r) =>
      server.listen(port, `127.0.1.${String(n)}`, () => {
        r();
      }),
    );
    pods.set(n, server);
  }
  // Removed pods keep serving a while, as a terminating pod does during its grace period.
  published.splice(
    0,
    published.length,
    ...wanted.map((n) => ({
      address: `127.0.1.${String(n)}`,
      port,
      weight: Math.floor(100 / wanted.length),
      priority: 0,
      host: `127-0-1-${String(n)}.web.default.svc.cluster.local`,
    })),
  );
}

type Row = { name: string; addr: string; state: string; weight: number; cookie: string };

/** Requests each pod served, counted by the pod itself (a slot may hold several pods in turn). */
const served = new Map<number, number>();

async function servers(socket: string): Promise<Row[]> {
  try {
    const raw = await exchange({ kind: 'unix', path: socket }, 'show servers state be_app;show stat be_app 4 -1', 1_000);
    const [state = '', stat = ''] = raw.split(/\n\n/);
    const stats = new Map(parseShowStat(stat).map((r) => [r['svname'] ?? '', r]));
    return parseServersState(state).map((s) => ({
      name: s.name,
      addr: `${s.address}:${String(s.port)}`,
      state: s.admin === 'ready' ? (s.opState === 2 ? 'UP' : 'ready (checking)') : s.admin,
      weight: s.weight,
      cookie: stats.get(s.name)?.['cookie'] ?? '',
    }));
  } catch {
    return [];
  }
}

function render(
  t: number,
  rows: readonly Row[],
  published: readonly Published[],
  client: readonly { pod: number; from: number; to: number; n: number }[],
  events: readonly string[],
  cookie: string | undefined,
  jsonLines: readonly string[],
): void {
  const tty = process.stdout.isTTY;
  const out: string[] = [];
  out.push(`haproxy-dns-agent demo  t=${(t / 1000).toFixed(1)}s / ${String(END_MS / 1000)}s`);
  out.push(`$ ${commandLine}`);
  out.push(`DNS ${SERVICE}: ${published.map((p) => p.address).join(', ') || '(none)'}`);
  out.push('');
  out.push(`${'server'.padEnd(7)} ${'address'.padEnd(20)} ${'state'.padEnd(17)} ${'weight'.padEnd(6)} cookie (SRVID)`);
  for (const r of rows)
    out.push(`${r.name.padEnd(7)} ${r.addr.padEnd(20)} ${r.state.padEnd(17)} ${String(r.weight).padEnd(6)} ${r.cookie}`);
  out.push('');
  out.push(`requests served, per pod: ${[...served].map(([n, c]) => `pod-${String(n)} ${String(c)}`).join(', ') || 'none yet'}`);
  out.push('');
  const runs = client.map((c) => `pod-${String(c.pod)} x${String(c.n)} (${(c.from / 1000).toFixed(1)}s-${(c.to / 1000).toFixed(1)}s)`);
  out.push(`sticky client, one request every 0.5s (cookie ${cookie ?? 'none yet'}): ${runs.join(' -> ') || 'not started'}`);
  out.push('');
  out.push('agent log, in short:');
  for (const e of events.slice(-8)) out.push(`  ${e}`);
  out.push('', 'agent log, as it writes it (JSON lines on stderr), the last three:');
  for (const l of jsonLines.slice(-3)) out.push(`  ${l.length > 200 ? `${l.slice(0, 197)}...` : l}`);
  if (tty) process.stdout.write(`\x1b[2J\x1b[H${out.join('\n')}\n`);
  else if (Math.round(t / 500) % 4 === 0) process.stdout.write(`${out.join('\n')}\n\n`);
}

function haproxyConfig(socket: string, port: number): string {
  return `global
    stats socket ${socket} mode 660 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:${String(port)}
    default_backend be_app
backend be_app
    balance roundrobin
    option redispatch
    dynamic-cookie-key ${COOKIE_KEY}
    cookie SRVID insert dynamic
    server-template srv 4 127.0.0.1:9 check inter 500ms fall 2 rise 1 disabled
`;
}

let commandLine = '';

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => {
        resolve(typeof a === 'object' && a !== null ? a.port : 0);
      });
    });
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
