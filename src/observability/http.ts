import net from 'node:net';
import type { AgentMetrics } from './metrics.ts';

export type Probe = () => { ok: boolean; detail: string };

/** The most a request may send before its blank line, and how long it may take. */
const MAX_REQUEST_BYTES = 8_192;
const REQUEST_TIMEOUT_MS = 10_000;

type Response = Readonly<{ status: 200 | 400 | 404 | 405 | 500 | 503; type: string; body: string }>;
const REASONS = {
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};
const text = (status: Response['status'], body: string): Response => ({ status, type: 'text/plain; charset=utf-8', body: `${body}\n` });

/**
 * /healthz: no lane is wedged (liveness). /readyz: HAProxy matches DNS recently enough
 * (readiness). /metrics: Prometheus text format. Nothing else: GET or HEAD, one request a
 * connection, closed after the answer. Written on node:net, not node:http, which alone
 * costs the agent some 15 MiB of resident memory (bench/results) for three fixed pages
 * that a kubelet and a Prometheus scraper read.
 */
export function startHttp(
  host: string,
  port: number,
  metrics: AgentMetrics,
  probes: Readonly<{ readiness: Probe; liveness: Probe }>,
): Promise<net.Server> {
  const respond = async (head: string): Promise<Response & { head: boolean }> => {
    const [method = '', target = '', version = ''] = (head.split('\r\n')[0] ?? '').split(' ');
    if (!/^HTTP\/1\.[01]$/.test(version)) return { ...text(400, 'expected an HTTP/1.x request line'), head: false };
    const isHead = method === 'HEAD';
    if (method !== 'GET' && !isHead) return { ...text(405, 'only GET and HEAD'), head: isHead };
    const path = target.split('?')[0];
    if (path === '/healthz' || path === '/readyz') {
      const r = path === '/healthz' ? probes.liveness() : probes.readiness();
      return { ...text(r.ok ? 200 : 503, r.detail), head: isHead };
    }
    if (path === '/metrics') {
      try {
        return { status: 200, type: metrics.registry.contentType, body: await metrics.registry.metrics(), head: isHead };
      } catch (err) {
        return { ...text(500, String(err)), head: isHead };
      }
    }
    return { ...text(404, 'not found: try /healthz, /readyz or /metrics'), head: isHead };
  };
  const server = net.createServer((sock) => {
    let received = '';
    sock.setTimeout(REQUEST_TIMEOUT_MS, () => sock.destroy());
    sock.on('error', () => undefined); // a client gone mid-answer is its own business
    const onData = (chunk: Buffer): void => {
      received += chunk.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      if (end === -1 && received.length <= MAX_REQUEST_BYTES) return;
      sock.off('data', onData);
      const answered =
        end === -1 ? Promise.resolve({ ...text(400, 'request head too long'), head: false }) : respond(received.slice(0, end));
      void answered.then((r) => {
        const body = Buffer.from(r.body);
        const lines = [
          `HTTP/1.1 ${String(r.status)} ${REASONS[r.status]}`,
          `content-type: ${r.type}`,
          `content-length: ${String(body.length)}`,
        ];
        sock.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\nconnection: close\r\n\r\n`), r.head ? Buffer.alloc(0) : body]));
      });
    };
    sock.on('data', onData);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
