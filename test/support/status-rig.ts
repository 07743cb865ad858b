import net from 'node:net';
import type { StatusModel } from '../../src/agent/status-shape.ts';
import { agentArgs, TestAgent } from './agent.ts';
import { podName, TestBind, ZONE, type Pod } from './bind.ts';
import { TestHaproxy } from './haproxy.ts';
import { TestPods } from './pods.ts';
import { freePort } from './procs.ts';

export const APP = `_http._tcp.app.default.svc.${ZONE}`;
export const DRAIN = `_http._tcp.drain.default.svc.${ZONE}`;
export const MORE = `_http._tcp.more.default.svc.${ZONE}`;
/** An SRV target whose label holds markup: served by BIND (check-names ignore), refused by the agent as no host name. */
export const HOSTILE_LABEL = String.raw`x\"\<img\032src=x\032onerror=alert\(1\)\>`;

/** The pods of the rig, by what each should end as. */
export const RIG = {
  inForce: { address: '127.0.1.1', port: 8080 },
  /** Not listening: HAProxy's check of it fails. */
  waitingCheck: { address: '127.0.1.2', port: 8080 },
  added: { address: '127.0.1.3', port: 8080 },
  /** The last of be_app's five pods in the order --max-endpoints 4 takes them: left out. */
  overCap: { address: '127.0.1.4', port: 8080 },
  /** Outside --allow-net 127.0.1.0/24. */
  refused: { address: '127.0.2.9', port: 8080 },
  hostile: { address: '127.0.1.9', port: 8080 },
  kept: { address: '127.0.1.11', port: 8080 },
  draining: { address: '127.0.1.12', port: 8080 },
  slot: { address: '127.0.1.21', port: 8080 },
  noSlot: { address: '127.0.1.22', port: 8080 },
} as const satisfies Record<string, Pod>;

const srv = (service: string, p: Pod, target = `${podName(p.address)}.`, weight = 10): string =>
  `update add ${service}. 5 IN SRV 0 ${String(weight)} ${String(p.port)} ${target}`;
const a = (p: Pod, name = `${podName(p.address)}.`): string => `update add ${name} 5 IN A ${p.address}`;

/**
 * What the status page is there to explain, on the real HAProxy and BIND. One agent, with
 * --dynamic-servers --max-endpoints 4, over be_app (2 checked slots: a pod in force, one
 * whose check fails, one on an added server, one over the cap, one refused by
 * --allow-net, one whose name is not a host name) and be_drain (a pod left DNS: draining
 * for --drain 60s, with the requests it holds unanswered as live sessions); another agent,
 * without --dynamic-servers, over be_more (1 slot, 2 pods: one has no slot).
 */
export class StatusRig {
  readonly bind = new TestBind();
  readonly pods = new TestPods();
  haproxy: TestHaproxy | null = null;
  slotsHaproxy: TestHaproxy | null = null;
  agent: TestAgent | null = null;
  slotsAgent: TestAgent | null = null;
  url = '';
  slotsUrl = '';
  /** The draining pod: it reads requests and answers none, so that HAProxy counts them as its live sessions. */
  readonly #holding = net.createServer((c) => {
    this.#held.add(c);
    c.on('error', () => undefined);
    c.on('close', () => this.#held.delete(c));
  });
  readonly #held = new Set<net.Socket>();
  /** The clients whose requests the draining pod holds. */
  readonly #clients = new Set<net.Socket>();
  /** How many requests the draining pod held as its pod left DNS. */
  heldAtDrain = 0;

  async start(): Promise<void> {
    await this.bind.start();
    await this.pods.start([RIG.inForce, RIG.added, RIG.overCap, RIG.kept, RIG.slot, RIG.noSlot]);
    await new Promise<void>((resolve, reject) => {
      this.#holding.once('error', reject);
      this.#holding.listen(RIG.draining.port, RIG.draining.address, resolve);
    });
    const hostile = `${HOSTILE_LABEL}.${ZONE}.`;
    await this.bind.update([
      ...[RIG.inForce, RIG.waitingCheck, RIG.added, RIG.overCap, RIG.refused, RIG.kept, RIG.draining, RIG.slot, RIG.noSlot].map((p) =>
        a(p),
      ),
      a(RIG.hostile, hostile),
      ...[RIG.inForce, RIG.waitingCheck, RIG.added, RIG.overCap].map((p) => srv(APP, p)),
      // Heavier: taken before the others at --max-endpoints, then refused.
      srv(APP, RIG.refused, `${podName(RIG.refused.address)}.`, 20),
      srv(APP, RIG.hostile, hostile),
      ...[RIG.kept, RIG.draining].map((p) => srv(DRAIN, p)),
      ...[RIG.slot, RIG.noSlot].map((p) => srv(MORE, p)),
    ]);
    const drainPort = await freePort();
    this.haproxy = new TestHaproxy({
      frontendPort: await freePort(),
      // The slots of be_app, then a second backend and its frontend (the configuration does not care for indentation).
      serverLines: [
        'server-template srv 2 127.0.0.1:9 check disabled',
        'backend be_drain',
        'balance roundrobin',
        'server-template srv 2 127.0.0.1:9 disabled',
        'frontend fe_drain',
        `bind 127.0.0.1:${String(drainPort)}`,
        'default_backend be_drain',
      ],
    });
    await this.haproxy.start();
    this.slotsHaproxy = new TestHaproxy({
      frontendPort: await freePort(),
      serverLines: ['server-template srv 1 127.0.0.1:9 disabled', 'backend be_more', 'server-template srv 1 127.0.0.1:9 disabled'],
    });
    await this.slotsHaproxy.start();
    const nameserver = `127.0.0.1:${String(this.bind.port)}`;
    const port = await freePort();
    this.url = `http://127.0.0.1:${String(port)}`;
    this.agent = new TestAgent([
      ...agentArgs(this.haproxy.socket, nameserver, `be_app=${APP}`),
      '--backend',
      `be_drain=${DRAIN}`,
      '--allow-net',
      '127.0.1.0/24',
      '--interval',
      '300ms',
      '--drain',
      '60s',
      '--dynamic-servers',
      '--max-endpoints',
      '4',
      '--listen',
      `127.0.0.1:${String(port)}`,
    ]);
    const slotsPort = await freePort();
    this.slotsUrl = `http://127.0.0.1:${String(slotsPort)}`;
    this.slotsAgent = new TestAgent([
      ...agentArgs(this.slotsHaproxy.socket, nameserver, `be_more=${MORE}`),
      '--allow-net',
      '127.0.1.0/24',
      '--interval',
      '300ms',
      '--listen',
      `127.0.0.1:${String(slotsPort)}`,
    ]);
    // be_drain serves both pods; then one leaves DNS and drains.
    await this.haproxy.waitServing([RIG.kept, RIG.draining].map(key).sort(), { backend: 'be_drain' });
    await this.#holdSessions(drainPort);
    await this.bind.update([`update delete ${DRAIN}. 5 IN SRV 0 10 ${String(RIG.draining.port)} ${podName(RIG.draining.address)}.`]);
  }

  /** Requests through fe_drain until the draining pod holds two (round robin sends every other one to it). */
  async #holdSessions(port: number): Promise<void> {
    for (let i = 0; i < 10 && this.#held.size < 2; i++) {
      const c = net.connect(port, '127.0.0.1');
      c.on('error', () => undefined);
      this.#clients.add(c);
      c.write('GET / HTTP/1.1\r\nhost: rig\r\n\r\n');
      await new Promise((r) => setTimeout(r, 100));
    }
    if (this.#held.size < 2) throw new Error(`the draining pod holds ${String(this.#held.size)} requests, not 2`);
    this.heldAtDrain = this.#held.size;
  }

  async stop(): Promise<void> {
    for (const c of [...this.#clients, ...this.#held]) c.destroy();
    await new Promise<void>((r) => {
      this.#holding.close(() => {
        r();
      });
    });
    await this.agent?.stop();
    await this.slotsAgent?.stop();
    await this.haproxy?.stop();
    await this.slotsHaproxy?.stop();
    await this.pods.stop();
    await this.bind.stop();
  }
}

export const key = (p: Pod): string => `${p.address}:${String(p.port)}`;

/** GET a page of the agent. */
export async function getPage(url: string): Promise<{ status: number; headers: Headers; body: string }> {
  const r = await fetch(url);
  return { status: r.status, headers: r.headers, body: await r.text() };
}

export async function getModel(url: string): Promise<StatusModel> {
  return JSON.parse((await getPage(`${url}/status.json`)).body) as StatusModel;
}
