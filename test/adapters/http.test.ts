import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttp } from '../../src/observability/http.ts';
import { AgentMetrics } from '../../src/observability/metrics.ts';

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
