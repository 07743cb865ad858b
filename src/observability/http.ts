import net from 'node:net';
import { ListenError } from '../errors.ts';
import type { StatusModel } from '../agent/status-shape.ts';
import type { AgentMetrics } from './metrics.ts';
import { STATUS_PATHS, statusResponse } from './status.ts';

/** A probe's verdict, now or once it has asked (readiness checks the HAProxy process on each socket). */
export type Probe = () => Verdict | Promise<Verdict>;
type Verdict = Readonly<{ ok: boolean; detail: string }>;

/** The most a request may send before its blank line. */
const MAX_REQUEST_BYTES = 8_192;

/**
 * What Node's own http server bounds (headersTimeout, maxConnections, the socket's idle
 * timeout), here on node:net: a client that trickles its request or never sends one, or
 * a crowd of them, costs a bounded amount of memory and leaves room for a probe.
 */
export type HttpLimits = Readonly<{
  /** From accept to the blank line that ends the request head; one timer, not renewed by bytes. Past it, closed unanswered. */
  headMs: number;
  /** Connections open at once. A new one past it closes the oldest still sending its head (or, when none is, itself). */
  maxConnections: number;
  /** A connection that neither sends nor reads for this long (a client that does not take its answer) is closed. */
  idleMs: number;
}>;

export const HTTP_LIMITS: HttpLimits = { headMs: 5_000, maxConnections: 64, idleMs: 10_000 };

type Response = Readonly<{
  status: 200 | 400 | 404 | 405 | 500 | 503;
  type: string;
  body: string;
  headers?: Readonly<Record<string, string>>;
}>;
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
 * /healthz: no lane is wedged (liveness). /readyz: every socket's HAProxy answers, and the
 * process there now has had what DNS holds applied (readiness, src/agent/health.ts, checked
 * on the socket by each probe). /metrics: Prometheus text format. Nothing else: GET or
 * HEAD, one request a connection, closed after the answer. Written on node:net, not
 * node:http, for memory: docs/decisions/0002-http-on-node-net.md.
 */
export function startHttp(
  host: string,
  port: number,
  metrics: AgentMetrics,
  probes: Readonly<{ readiness: Probe; liveness: Probe; status?: () => StatusModel }>,
  limits: HttpLimits = HTTP_LIMITS,
): Promise<net.Server> {
  const respond = async (head: string): Promise<Response & { head: boolean }> => {
    const [method = '', target = '', version = ''] = (head.split('\r\n')[0] ?? '').split(' ');
    if (!/^HTTP\/1\.[01]$/.test(version)) return { ...text(400, 'expected an HTTP/1.x request line'), head: false };
    const isHead = method === 'HEAD';
    if (method !== 'GET' && !isHead) return { ...text(405, 'only GET and HEAD'), head: isHead };
    const path = target.split('?')[0];
    if (path === '/healthz' || path === '/readyz') {
      try {
        const r = await (path === '/healthz' ? probes.liveness() : probes.readiness());
        return { ...text(r.ok ? 200 : 503, r.detail), head: isHead };
      } catch (err) {
        return { ...text(500, String(err)), head: isHead };
      }
    }
    if (path === '/metrics') {
      try {
        return { status: 200, type: metrics.registry.contentType, body: await metrics.registry.metrics(), head: isHead };
      } catch (err) {
        return { ...text(500, String(err)), head: isHead };
      }
    }
    const status = probes.status;
    if (path !== undefined && STATUS_PATHS.includes(path) && status !== undefined) return { ...statusResponse(path, status), head: isHead };
    return { ...text(404, 'not found: try /healthz, /readyz or /metrics'), head: isHead };
  };
  // Every open connection, and those still sending their head: both in the order they came.
  const open = new Set<net.Socket>();
  const waiting = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    if (open.size >= limits.maxConnections) {
      const oldest = waiting.values().next();
      if (oldest.done === true) {
        sock.destroy(); // every slot is answering: the newcomer waits its turn outside
        return;
      }
      oldest.value.destroy();
      open.delete(oldest.value);
      waiting.delete(oldest.value);
    }
    open.add(sock);
    waiting.add(sock);
    const deadline = setTimeout(() => sock.destroy(), limits.headMs);
    sock.setTimeout(limits.idleMs, () => sock.destroy());
    // A client's connection never keeps the agent from ending (SIGTERM): the agent's own timers keep it alive.
    deadline.unref();
    sock.unref();
    sock.on('error', () => undefined); // a client gone mid-answer is its own business
    sock.once('close', () => {
      clearTimeout(deadline);
      open.delete(sock);
      waiting.delete(sock);
    });
    let received = '';
    const onData = (chunk: Buffer): void => {
      received += chunk.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      if (end === -1 && received.length <= MAX_REQUEST_BYTES) return;
      sock.off('data', onData);
      clearTimeout(deadline);
      waiting.delete(sock);
      const answered =
        end === -1 ? Promise.resolve({ ...text(400, 'request head too long'), head: false }) : respond(received.slice(0, end));
      void answered.then((r) => {
        const body = Buffer.from(r.body);
        const lines = [
          `HTTP/1.1 ${String(r.status)} ${REASONS[r.status]}`,
          `content-type: ${r.type}`,
          `content-length: ${String(body.length)}`,
        ];
        for (const [name, value] of Object.entries(r.headers ?? {})) lines.push(`${name}: ${value}`);
        sock.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\nconnection: close\r\n\r\n`), r.head ? Buffer.alloc(0) : body]));
      });
    };
    sock.on('data', onData);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => {
      reject(listenError(host, port, err));
    });
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      resolve(server);
    });
  });
}

/** Why the address cannot be listened on, in one line naming it. */
function listenError(host: string, port: number, err: Error): ListenError {
  const where = `--listen ${host.includes(':') ? `[${host}]` : host}:${String(port)}`;
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'EADDRINUSE'
      ? 'address already in use (another process listens there)'
      : code === 'EACCES'
        ? 'permission denied (a port below 1024 needs CAP_NET_BIND_SERVICE)'
        : code === 'EADDRNOTAVAIL'
          ? 'address not available (no interface of this host has it)'
          : `cannot listen there (${err.message})`;
  return new ListenError(`${where}: ${why}`);
}
