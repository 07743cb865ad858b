import http from 'node:http';
import type { AgentMetrics } from './metrics.ts';

export type Probe = () => { ok: boolean; detail: string };

/**
 * /healthz: no lane is wedged (liveness). /readyz: HAProxy matches DNS recently enough
 * (readiness). /metrics: Prometheus text format. Nothing else.
 */
export function startHttp(
  host: string,
  port: number,
  metrics: AgentMetrics,
  probes: Readonly<{ readiness: Probe; liveness: Probe }>,
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/readyz') {
      const r = path === '/healthz' ? probes.liveness() : probes.readiness();
      res.writeHead(r.ok ? 200 : 503, { 'content-type': 'text/plain' }).end(`${r.detail}\n`);
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz, /readyz or /metrics\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
