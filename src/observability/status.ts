import type { StatusModel } from '../agent/status-shape.ts';
import { renderStatusHtml, renderStatusJson, STATUS_CSP } from './status-page.ts';

/** The status pages' paths. */
export const STATUS_PATHS: readonly string[] = ['/status', '/status.json'];

export type StatusResponse = Readonly<{ status: 200 | 500; type: string; body: string; headers: Readonly<Record<string, string>> }>;

/** Headers of both: nothing cached, nothing sniffed, no referrer leaves the page. */
const COMMON = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

/**
 * The answer to GET /status (HTML) or /status.json: the model is built when asked, from
 * what the lanes keep, and rendered; a server of either kind (node:net, node:http) sends it.
 */
export function statusResponse(path: string, model: () => StatusModel): StatusResponse {
  try {
    const m = model();
    if (path === '/status.json')
      return { status: 200, type: 'application/json; charset=utf-8', body: renderStatusJson(m), headers: COMMON };
    return {
      status: 200,
      type: 'text/html; charset=utf-8',
      body: renderStatusHtml(m),
      headers: { ...COMMON, 'content-security-policy': STATUS_CSP, 'x-frame-options': 'DENY' },
    };
  } catch (err) {
    return { status: 500, type: 'text/plain; charset=utf-8', body: `${String(err)}\n`, headers: COMMON };
  }
}
