import http from 'node:http';

export type Reply = Readonly<{ status: number; body: string; cookie: string | null }>;

/**
 * One GET through HAProxy on a new connection, sending the SRVID cookie when given;
 * returns the body (the demo's pods answer with who they are) and the SRVID HAProxy set.
 */
export function httpGet(port: number, cookie?: string | null, timeoutMs = 5_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers = cookie === undefined || cookie === null ? {} : { cookie: `SRVID=${cookie}` };
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        const set = res.headers['set-cookie']?.find((c) => c.startsWith('SRVID='));
        resolve({ status: res.statusCode ?? 0, body, cookie: set === undefined ? null : (/^SRVID=([^;]*)/.exec(set)?.[1] ?? null) });
      });
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error('request timed out')));
  });
}

/** Status and body of a GET (the agent's /healthz, /readyz, /metrics). */
export async function fetchText(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
}
