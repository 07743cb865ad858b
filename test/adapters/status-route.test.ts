import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusModel } from '../../src/agent/status-model.ts';
import { startHttp } from '../../src/observability/http.ts';
import { AgentMetrics } from '../../src/observability/metrics.ts';
import { STATUS_CSP } from '../../src/observability/status-page.ts';

describe('GET /status and /status.json on --listen', () => {
  let server: net.Server;
  let base = '';
  let asked = 0;
  beforeAll(async () => {
    server = await startHttp('127.0.0.1', 0, new AgentMetrics(false), {
      readiness: () => ({ ok: true, detail: 'ready' }),
      liveness: () => ({ ok: true, detail: 'alive' }),
      status: () => {
        asked++;
        return statusModel({ now: 0, drainMs: 30_000, maxEndpoints: 256, dynamicServers: false, backends: [], sockets: [], changes: [] });
      },
    });
    base = `http://127.0.0.1:${String((server.address() as net.AddressInfo).port)}`;
  });
  afterAll(() => {
    server.close();
  });

  it('serves the page under a strict policy, never cached, built only when asked', async () => {
    expect(asked).toBe(0);
    const r = await fetch(`${base}/status`);
    expect(r.status).toBe(200);
    expect(asked).toBe(1);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.headers.get('content-security-policy')).toBe(STATUS_CSP);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(await r.text()).toContain('<h1>haproxy-dns-agent status</h1>');
  });

  it('serves the same data as JSON, version 1', async () => {
    const r = await fetch(`${base}/status.json`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(await r.json()).toEqual({
      version: 1,
      generatedAt: '1970-01-01T00:00:00.000Z',
      settings: { drainSeconds: 30, maxEndpoints: 256, dynamicServers: false },
      sockets: [],
      backends: [],
      changes: [],
    });
  });
});
