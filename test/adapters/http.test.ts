import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ListenError } from '../../src/errors.ts';
import { HTTP_LIMITS, startHttp, type HttpLimits } from '../../src/observability/http.ts';
import { AgentMetrics } from '../../src/observability/metrics.ts';
import { waitFor } from '../support/procs.ts';

/** Sends `request` as it is and reads until the server closes. */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(request));
    let got = '';
    sock.on('data', (c: Buffer) => {
      got += c.toString();
    });
    sock.on('end', () => {
      resolve(got);
    });
    sock.on('error', reject);
  });
}

const probes = {
  readiness: () => ({ ok: true, detail: 'ready' }),
  liveness: () => ({ ok: true, detail: 'alive' }),
};

/** A client connection that records what it got and when it was closed. */
type Client = { sock: net.Socket; got: string; closed: boolean };
function connect(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c: Client = { sock: net.connect(port, '127.0.0.1'), got: '', closed: false };
    c.sock.on('data', (b: Buffer) => (c.got += b.toString()));
    c.sock.on('error', () => undefined); // a reset is a close too
    c.sock.on('close', () => (c.closed = true));
    c.sock.once('connect', () => {
      c.sock.off('error', reject);
      resolve(c);
    });
    c.sock.once('error', reject);
  });
}

describe('the HTTP endpoint (/healthz, /readyz, /metrics)', () => {
  let server: net.Server;
  let port = 0;
  let ready = true;
  beforeAll(async () => {
    const metrics = new AgentMetrics(false);
    metrics.passes.inc({ lane: 'dns', name: 'be_app', result: 'ok' });
    server = await startHttp('127.0.0.1', 0, metrics, {
      readiness: () => ({ ok: ready, detail: ready ? 'ready' : 'be_app: HAProxy has not matched DNS for 3 intervals' }),
      liveness: () => ({ ok: true, detail: 'alive' }),
    });
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => {
    server.close();
  });

  it('answers the probes with 200 or 503 and a one-line reason, and serves the metrics', async () => {
    expect((await fetch(`http://127.0.0.1:${String(port)}/healthz`)).status).toBe(200);
    ready = false;
    const notReady = await fetch(`http://127.0.0.1:${String(port)}/readyz?verbose`);
    expect([notReady.status, await notReady.text()]).toEqual([503, 'be_app: HAProxy has not matched DNS for 3 intervals\n']);
    ready = true;
    const metrics = await fetch(`http://127.0.0.1:${String(port)}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await metrics.text()).toContain('haproxy_dns_agent_passes_total{lane="dns",name="be_app",result="ok"} 1');
  });

  it('waits for a probe that asks before it answers, and answers 500 with why when it fails', async () => {
    const asked: { answer?: (v: { ok: boolean; detail: string }) => void } = {};
    const server = await startHttp('127.0.0.1', 0, new AgentMetrics(false), {
      readiness: () =>
        new Promise((resolve) => {
          asked.answer = resolve;
        }),
      liveness: () => Promise.reject(new Error('lane table unreadable')),
    });
    try {
      const p = (server.address() as net.AddressInfo).port;
      const pending = fetch(`http://127.0.0.1:${String(p)}/readyz`);
      await waitFor('the probe to be asked', () => asked.answer !== undefined);
      await delay(50); // the answer waits for the probe, however long it asks
      asked.answer?.({ ok: false, detail: 'not ready: socket /run/admin.sock: HAProxy (pid 7) has not had backend be_app applied yet' });
      const r = await pending;
      expect([r.status, await r.text()]).toEqual([
        503,
        'not ready: socket /run/admin.sock: HAProxy (pid 7) has not had backend be_app applied yet\n',
      ]);
      expect(await raw(p, 'GET /healthz HTTP/1.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 500 [^]*\r\n\r\nError: lane table unreadable\n$/);
    } finally {
      server.close();
    }
  });

  it('frames each answer with its length and closes; HEAD gets the head only', async () => {
    const got = await raw(port, 'HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(got).toBe('HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 6\r\nconnection: close\r\n\r\n');
    expect(await raw(port, 'GET /healthz HTTP/1.0\r\n\r\n')).toMatch(/\r\n\r\nalive\n$/);
  });

  it('says what it does not serve: other paths 404, other methods 405, anything else 400', async () => {
    expect(await raw(port, 'GET /nope HTTP/1.1\r\n\r\n')).toMatch(
      /^HTTP\/1\.1 404 Not Found\r\n[^]*try \/healthz, \/readyz or \/metrics\n$/,
    );
    expect(await raw(port, 'POST /metrics HTTP/1.1\r\ncontent-length: 0\r\n\r\n')).toMatch(/^HTTP\/1\.1 405 /);
    expect(await raw(port, 'hello\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 [^]*expected an HTTP\/1\.x request line\n$/);
    expect(await raw(port, `GET /${'a'.repeat(9_000)}`)).toMatch(/^HTTP\/1\.1 400 [^]*request head too long\n$/);
  });
});

describe('the HTTP endpoint under slow and many clients', () => {
  const servers: net.Server[] = [];
  const clients: Client[] = [];
  const start = async (limits: Partial<HttpLimits>): Promise<number> => {
    const server = await startHttp('127.0.0.1', 0, new AgentMetrics(false), probes, { ...HTTP_LIMITS, ...limits });
    servers.push(server);
    return (server.address() as net.AddressInfo).port;
  };
  const open = async (port: number, n: number, partial: string): Promise<Client[]> => {
    const out: Client[] = [];
    for (let i = 0; i < n; i++) {
      const c = await connect(port);
      c.sock.write(partial);
      out.push(c);
      clients.push(c);
    }
    return out;
  };
  afterEach(() => {
    for (const c of clients.splice(0)) c.sock.destroy();
    for (const s of servers.splice(0)) s.close();
  });

  it('keeps at most its bound of connections: a newcomer closes the oldest still sending its head, and /readyz answers in the crowd', async () => {
    const port = await start({ maxConnections: 8, headMs: 60_000 });
    const crowd = await open(port, 24, 'GET /healthz HTTP/1.1\r\nHost: x\r\n');
    await waitFor(
      () => `16 of 24 slow connections closed (${String(crowd.filter((c) => c.closed).length)} are)`,
      () => crowd.filter((c) => c.closed).length >= 16,
    );
    expect(crowd.map((c) => c.closed)).toEqual([...Array<boolean>(16).fill(true), ...Array<boolean>(8).fill(false)]);
    expect(crowd.every((c) => c.got === '')).toBe(true); // closed unanswered
    expect(await raw(port, 'GET /readyz HTTP/1.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nready\n$/);
    await delay(100); // what is still open stays open: no more than one made room for /readyz
    expect(crowd.filter((c) => !c.closed)).toHaveLength(7);
  });

  it('closes, unanswered, a request still incomplete at the deadline from accept, however steadily it trickles', async () => {
    const port = await start({ headMs: 200 });
    const [c] = await open(port, 1, 'GET /healthz HTTP/1.1\r\n');
    const rest = 'Host: x\r\nUser-Agent: slow\r\n\r\n';
    let sent = 0;
    while (c !== undefined && !c.closed && sent < rest.length) {
      c.sock.write(rest.charAt(sent++)); // a byte every 40 ms: never idle, done after 1.2 s
      await delay(40);
    }
    await waitFor('the trickled connection closed', () => c?.closed === true);
    expect([c?.got, sent < rest.length]).toEqual(['', true]);
  });

  it('closes a connection that sends nothing at the deadline, and still answers a request that comes whole', async () => {
    const port = await start({ headMs: 200 });
    const [silent] = await open(port, 1, '');
    expect(await raw(port, 'GET /healthz HTTP/1.1\r\n\r\n')).toMatch(/\r\n\r\nalive\n$/);
    await waitFor('the silent connection closed', () => silent?.closed === true);
    expect(silent?.got).toBe('');
  });

  it('says in one line that the address is taken', async () => {
    const port = await start({});
    const taken = startHttp('127.0.0.1', port, new AgentMetrics(false), probes);
    await expect(taken).rejects.toThrow(ListenError);
    await expect(taken).rejects.toThrow(
      new ListenError(`--listen 127.0.0.1:${String(port)}: address already in use (another process listens there)`),
    );
  });
});
