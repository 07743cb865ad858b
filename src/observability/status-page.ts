/**
 * The status page (/status) and its JSON (/status.json), rendered from the status model
 * (src/agent/status-model.ts). Pure: text in, text out. Every interpolated text is escaped
 * (names from DNS may hold anything), the page needs no script and loads nothing: its one
 * style sheet is inline and allowed by its hash (STATUS_CSP), and the browser reloads it.
 */
import type { BackendStatus, PodRow, ServerRow, SocketStatus, StatusModel, Table } from '../agent/status-shape.ts';

/** How often the browser reloads the page (seconds). */
export const REFRESH_SECONDS = 5;

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d1d1f;background:#fff}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.6em 0 .3em;border-bottom:1px solid #ccc}
h3{font-size:1em;margin:1em 0 .3em}p{margin:.3em 0}
table{border-collapse:collapse;margin:.3em 0 .8em;width:100%}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}code,.mono{font-family:ui-monospace,monospace;word-break:break-all}
.st{font-weight:600;white-space:nowrap}
.in-force{color:#16692d}.new,.waiting{color:#0b57a4}.waiting-check,.draining,.leaving{color:#8a5a00}
.refused,.over-cap,.no-slot,.unused{color:#b00020}.free{color:#666}
.muted{color:#666}`;

/**
 * The SHA-256 of STYLE, base64: written out, because node:crypto (OpenSSL) costs the agent
 * memory it does not otherwise load (status-page.test.ts checks the two agree).
 */
export const STYLE_SHA256 = '6VlLjZRav5AkeYKNaBOTqCsrjfH+R+dKkzZ/BRXGtto=';

/** The page's Content-Security-Policy: nothing may load, only its own inline style sheet applies. */
export const STATUS_CSP = `default-src 'none'; style-src 'sha256-${STYLE_SHA256}'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/** Text as HTML: markup characters as entities, control characters as \xNN (a name from DNS may hold any byte). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&#39;';
      default:
        return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
    }
  });
}

const e = escapeHtml;
const orDash = (v: string | number | null): string => (v === null ? '-' : e(String(v)));

/** The model as JSON, with `<`, `>` and `&` escaped too: the text stays inert wherever it is pasted. */
export function renderStatusJson(model: StatusModel): string {
  return `${JSON.stringify(model, null, 2).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

/** The model as one HTML page. */
export function renderStatusHtml(model: StatusModel): string {
  const parts: string[] = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="refresh" content="${String(REFRESH_SECONDS)}">`,
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    '<title>haproxy-dns-agent status</title>',
    `<style>${STYLE}</style></head><body>`,
    '<h1>haproxy-dns-agent status</h1>',
    `<p class="muted">At ${e(model.generatedAt)}; reloads every ${String(REFRESH_SECONDS)} s. Drain ${e(String(model.settings.drainSeconds))} s, --max-endpoints ${String(model.settings.maxEndpoints)}, --dynamic-servers ${model.settings.dynamicServers ? 'on' : 'off'}. The same data: <a href="/status.json">/status.json</a>.</p>`,
    '<h2>HAProxy</h2>',
    sockets(model.sockets),
  ];
  for (const b of model.backends) parts.push(backend(b));
  parts.push(changes(model.changes), '</body></html>\n');
  return parts.join('\n');
}

function sockets(list: readonly SocketStatus[]): string {
  const rows = list.map(
    (s) =>
      `<tr><td class="mono">${e(s.socket)}</td><td>${s.reachable === null ? 'not yet' : s.reachable ? 'yes' : 'no'}</td><td>${orDash(s.version)}</td><td>${orDash(s.pid)}</td><td>${s.uptimeSeconds === null ? '-' : e(duration(s.uptimeSeconds))}</td><td>${s.levelAdmin ? 'admin (checked)' : 'not checked yet'}</td><td>${s.dynamicServers}</td></tr>`,
  );
  return `<table><tr><th>Socket</th><th>Reached</th><th>Version</th><th>Pid</th><th>Uptime</th><th>Level</th><th>Dynamic servers</th></tr>\n${rows.join('\n')}</table>`;
}

function backend(b: BackendStatus): string {
  const d = b.dns;
  const facts = [
    `DNS says <b>${e(d.status)}</b>: ${e(d.says)}`,
    d.answeredName === null ? null : `answered for <code>${e(d.answeredName)}</code>`,
    `${orDash(d.endpointsInForce)} endpoints in force`,
    d.refused > 0 ? `${String(d.refused)} refused` : null,
    d.overCap > 0 ? `${String(d.overCap)} over --max-endpoints` : null,
    d.answerAgeSeconds === null ? null : `answer ${e(String(d.answerAgeSeconds))} s old`,
    d.ttlSeconds === null ? null : `TTL ${String(d.ttlSeconds)} s`,
    d.nameserver === null ? null : `from <code>${e(d.nameserver)}</code>${d.roundTripMs === null ? '' : ` in ${String(d.roundTripMs)} ms`}`,
    d.failing === null ? null : `failing for ${e(String(d.failing.forSeconds))} s (${e(d.failing.kind)})`,
    d.holdLeftSeconds === null ? null : `held for ${e(String(d.holdLeftSeconds))} s more`,
    `zone serial ${d.serial.watched ? `${d.serial.serial === null ? 'not read yet' : String(d.serial.serial)}, ${e(d.serial.says)}` : 'not watched'}`,
    d.serialDistrusted ? "the zone's serial stood still while the records changed: not trusted to stand for them" : null,
  ].filter((x) => x !== null);
  const parts = [`<h2>Backend <code>${e(b.backend)}</code></h2>`, `<p>Record <code>${e(b.record)}</code>. ${facts.join('; ')}.</p>`];
  for (const s of b.sockets) {
    parts.push(`<h3>On <code>${e(s.socket)}</code> <span class="muted">(read ${s.readAt === null ? 'never' : e(s.readAt)})</span></h3>`);
    if (s.note !== null) parts.push(`<p>${e(s.note)}</p>`);
    parts.push(pods(s.pods), servers(s.servers));
  }
  return parts.join('\n');
}

const more = (t: Table<unknown>): string => (t.omitted > 0 ? `<p class="muted">${String(t.omitted)} more not shown.</p>` : '');

function pods(t: Table<PodRow>): string {
  if (t.rows.length === 0) return '<p class="muted">No pods in DNS.</p>';
  const rows = t.rows.map(
    (r) =>
      `<tr><td class="mono">${orDash(r.endpoint)}</td><td class="mono">${orDash(r.target)}</td><td class="mono">${orDash(r.server)}</td><td class="st ${r.state}">${r.state}</td><td>${e(r.reason)}</td></tr>`,
  );
  return `<table><tr><th>Pod</th><th>Name</th><th>Server</th><th>State</th><th>Why</th></tr>\n${rows.join('\n')}</table>${more(t)}`;
}

function servers(t: Table<ServerRow>): string {
  if (t.rows.length === 0) return '';
  const rows = t.rows.map(
    (r) =>
      `<tr><td class="mono">${e(r.server)}</td><td>${r.kind}</td><td class="mono">${e(r.endpoint)}</td><td>${r.admin}</td><td>${String(r.weight)}</td><td>${r.check}</td><td class="mono">${orDash(r.cookie)}</td><td class="st ${r.state}">${r.state}</td><td>${e(r.reason)}</td></tr>`,
  );
  return `<table><tr><th>Server</th><th>Kind</th><th>Address</th><th>Admin</th><th>Weight</th><th>Check</th><th>Cookie</th><th>State</th><th>Why</th></tr>\n${rows.join('\n')}</table>${more(t)}`;
}

function changes(list: StatusModel['changes']): string {
  if (list.length === 0) return '<h2>Last changes</h2><p class="muted">None since start.</p>';
  const rows = [...list]
    .reverse()
    .map(
      (c) =>
        `<tr><td>${e(c.at)}</td><td class="mono">${e(c.socket)}</td><td class="mono">${e(c.backend)}</td><td class="mono">${e(c.server)}</td><td>${c.action}</td><td class="mono">${orDash(c.from)} → ${orDash(c.to)}</td><td class="mono">${orDash(c.target)}</td><td>${e(c.reason)}${c.liveSessions === null ? '' : `; ${String(c.liveSessions)} live sessions`}</td></tr>`,
    );
  return `<h2>Last changes <span class="muted">(newest first, at most 50)</span></h2><table><tr><th>At</th><th>Socket</th><th>Backend</th><th>Server</th><th>Action</th><th>From → to</th><th>Pod</th><th>Why</th></tr>\n${rows.join('\n')}</table>`;
}

function duration(s: number): string {
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3_600);
  const m = Math.floor((s % 3_600) / 60);
  return `${d > 0 ? `${String(d)}d ` : ''}${String(h)}h ${String(m)}m ${String(s % 60)}s`;
}
