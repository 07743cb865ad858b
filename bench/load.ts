/**
 * `npm run load`: a load test, not a CI test. Clients hit a real HAProxy (Debian's) while
 * BIND scales the service up and down twenty times; removed pods stop serving a few
 * seconds after they leave DNS, as a pod with a preStop sleep does. Reports failed
 * requests (the goal is zero) and sticky clients that changed pod while their pod was
 * still in DNS (the goal is zero).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { agentArgs, LOOPBACK_PODS, TestAgent } from '../test/support/agent.ts';
import { podsAt, SERVICE, TestBind, type Pod } from '../test/support/bind.ts';
import { TestHaproxy } from '../test/support/haproxy.ts';
import { get as request, TestPods } from '../test/support/pods.ts';
import { freePort } from '../test/support/procs.ts';
import { tempRoot } from '../test/support/temp-root.ts';

const EVENTS = 20;
const EVENT_EVERY_MS = 2_000;
const DRAIN = '2s';
const STOP_AFTER_MS = 3_000;
const STICKY_CLIENTS = 20;
const FREE_CLIENTS = 4;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const keyOf = (p: Pod): string => `${p.address}:${String(p.port)}`;
async function main(): Promise<void> {
  const bind = new TestBind();
  await bind.start();
  const pool = podsAt(0, 12);
  const pods = new TestPods();
  await pods.start(pool);
  const haproxy = new TestHaproxy({ frontendPort: await freePort(), slots: 14 });
  await haproxy.start();
  let inDns = pool.slice(0, 4);
  await bind.setPods(inDns);
  const agent = new TestAgent([
    ...agentArgs(haproxy.socket, `127.0.0.1:${String(bind.port)}`, `be_app=${SERVICE}`),
    ...LOOPBACK_PODS,
    '--interval',
    '500ms',
    '--drain',
    DRAIN,
    '--log-level',
    'warn',
  ]);
  const port = haproxy.options.frontendPort;
  for (let i = 0; i < 100 && (await haproxy.serving()).length !== 4; i++) await sleep(100);

  // When each pod last left DNS: a client moving off a pod that has not left DNS since the
  // client landed on it is a broken sticky session.
  const removedAt = new Map<string, number>();
  const stats = { requests: 0, failed: 0, stickyMovedWhileInDns: 0, redispatchedAfterRemoval: 0, errors: new Map<string, number>() };
  let running = true;
  const sticky = async (): Promise<void> => {
    let cookie: string | null = null;
    let pod: string | null = null;
    let landedAt = 0; // when this client first reached its current pod
    while (running) {
      try {
        const sentAt = performance.now();
        const r = await request(port, cookie ?? undefined);
        stats.requests++;
        if (r.status !== 200) {
          stats.failed++;
          stats.errors.set(`HTTP ${String(r.status)}`, (stats.errors.get(`HTTP ${String(r.status)}`) ?? 0) + 1);
        } else {
          if (pod !== null && r.pod !== pod) {
            if ((removedAt.get(pod) ?? -1) < landedAt) stats.stickyMovedWhileInDns++;
            else stats.redispatchedAfterRemoval++;
          }
          if (r.pod !== pod) landedAt = sentAt;
          pod = r.pod;
          if (r.cookie !== null) cookie = r.cookie;
        }
      } catch (err) {
        stats.requests++;
        stats.failed++;
        const k = err instanceof Error ? err.message : String(err);
        stats.errors.set(k, (stats.errors.get(k) ?? 0) + 1);
      }
      await sleep(50);
    }
  };
  const free = async (): Promise<void> => {
    while (running) {
      try {
        const r = await request(port);
        stats.requests++;
        if (r.status !== 200) stats.failed++;
      } catch {
        stats.requests++;
        stats.failed++;
      }
    }
  };
  const clients = [...Array.from({ length: STICKY_CLIENTS }, sticky), ...Array.from({ length: FREE_CLIENTS }, free)];

  const stops: Promise<void>[] = [];
  for (let e = 0; e < EVENTS; e++) {
    await sleep(EVENT_EVERY_MS);
    // Alternate: scale up with the pods out of DNS the longest; scale down by one to three of the oldest.
    const next =
      e % 2 === 0
        ? [
            ...inDns,
            ...pool
              .filter((p) => !inDns.includes(p))
              .sort((a, b) => (removedAt.get(keyOf(a)) ?? -1) - (removedAt.get(keyOf(b)) ?? -1))
              .slice(0, 1 + (e % 3)),
          ]
        : inDns.slice(Math.min(inDns.length - 2, 1 + (e % 3)));
    const removed = inDns.filter((p) => !next.includes(p));
    const added = next.filter((p) => !inDns.includes(p));
    await pods.start(added);
    inDns = next;
    const changedAt = performance.now();
    for (const p of removed) removedAt.set(keyOf(p), changedAt);
    await bind.setPods(inDns);
    process.stdout.write(
      `event ${String(e + 1)}: ${String(inDns.length)} pods (+${String(added.length)} -${String(removed.length)}), ${String(stats.requests)} requests so far, ${String(stats.failed)} failed\n`,
    );
    // A pod that came back into DNS meanwhile keeps running.
    stops.push(sleep(STOP_AFTER_MS).then(() => pods.stop(removed.filter((p) => !inDns.includes(p)))));
  }
  await sleep(EVENT_EVERY_MS);
  running = false;
  await Promise.all(clients);
  await Promise.all(stops);
  await agent.stop();
  await haproxy.stop();
  await bind.stop();
  await pods.stop();

  const report = [
    '# Load test: scale events under traffic',
    '',
    `${String(EVENTS)} scale events, one every ${String(EVENT_EVERY_MS / 1000)} s; --drain ${DRAIN}; removed pods stop ${String(STOP_AFTER_MS / 1000)} s after leaving DNS.`,
    `${String(STICKY_CLIENTS)} sticky clients (one request every 50 ms, keeping their SRVID cookie) and ${String(FREE_CLIENTS)} clients without cookies, each request on a new connection.`,
    '',
    '| what | count | goal |',
    '|---|---|---|',
    `| requests | ${String(stats.requests)} | |`,
    `| failed requests | ${String(stats.failed)} | 0 |`,
    `| sticky clients moved while their pod was in DNS | ${String(stats.stickyMovedWhileInDns)} | 0 |`,
    `| sticky clients redispatched after their pod left DNS (expected) | ${String(stats.redispatchedAfterRemoval)} | |`,
    '',
    ...(stats.errors.size === 0 ? [] : ['Failures:', '', ...[...stats.errors].map(([k, v]) => `- ${k}: ${String(v)}`), '']),
  ].join('\n');
  process.stdout.write(`\n${report}\n`);
  // The committed results change only when asked: `npm run load -- --save`.
  if (process.argv.includes('--save')) {
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
    writeFileSync(new URL('./results/load.md', import.meta.url), `${report}\n`);
    process.stdout.write('Written: bench/results/load.md\n');
  }
}

// Its HAProxy and BIND folders go under one temporary folder, removed at the end.
const removeTemp = tempRoot('hda-bench-');
process.on('exit', removeTemp);

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`load test failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
