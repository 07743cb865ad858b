import http from 'node:http';
import { httpGet } from './http-client.ts';
import type { Pod } from './bind.ts';

/** HTTP servers standing in for pods: each answers with its own address:port. */
export class TestPods {
  readonly #servers = new Map<string, http.Server>();

  async start(pods: readonly Pod[]): Promise<void> {
    for (const p of pods) {
      const key = `${p.address}:${String(p.port)}`;
      if (this.#servers.has(key)) continue;
      const server = http.createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' }).end(key);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(p.port, p.address, () => {
          resolve();
        });
      });
      this.#servers.set(key, server);
    }
  }

  async stop(pods?: readonly Pod[]): Promise<void> {
    const keys = pods === undefined ? [...this.#servers.keys()] : pods.map((p) => `${p.address}:${String(p.port)}`);
    await Promise.all(
      keys.map(async (k) => {
        const s = this.#servers.get(k);
        this.#servers.delete(k);
        if (s === undefined) return;
        s.closeAllConnections();
        await new Promise<void>((r) =>
          s.close(() => {
            r();
          }),
        );
      }),
    );
  }
}

/** One HTTP request through HAProxy; returns which pod answered and the cookie it set. */
export async function get(port: number, cookie?: string): Promise<{ status: number; pod: string; cookie: string | null }> {
  const r = await httpGet(port, cookie);
  return { status: r.status, pod: r.body, cookie: r.cookie };
}
