import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { agentHarness, SRV } from '../../test/support/agent-harness.ts';
import { FakeHaproxy, slots } from '../../test/support/fake-haproxy.ts';
import type { Endpoint } from '../core/types.ts';
import { escapeHtml, renderStatusHtml, renderStatusJson, STATUS_CSP } from './status-page.ts';

/** Names a DNS answer may carry (presentation form keeps these characters as they are), and raw bytes. */
const HOSTILE = [
  '<script>alert(1)</script>.web',
  '"><img src=x onerror=alert(1)>.web',
  "a'b&amp;c.web",
  'a\\010disable\\032frontend\\032fe\\010set\\032server.web',
  'line\nbreak\u2028\u0000.web',
];

const pod = (n: number, target: string): Endpoint => ({
  target,
  address: `10.1.0.${String(n)}`,
  port: 8080,
  weight: 10,
  priority: 0,
  ttl: 5,
});

async function modelWith(targets: readonly string[]) {
  const h = new FakeHaproxy({ be_app: slots(targets.length - 1) });
  h.version = '2.6.12';
  const { agent, dns, clock } = agentHarness([h]);
  dns.answers.set(
    SRV,
    targets.map((t, i) => pod(i + 1, t)),
  );
  await agent.pass();
  return agent.statusModel(clock.now);
}

describe('the status page', () => {
  it('renders every name from DNS as text: no markup, no raw control character', async () => {
    const html = renderStatusHtml(await modelWith(HOSTILE));
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u2028]/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;.web');
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;.web');
    expect(html).toContain('a&#39;b&amp;amp;c.web');
    expect(html).toContain('line\\x0abreak\\x2028\\x00.web');
    // Every tag on the page is one the renderer writes.
    const tags = new Set([...html.matchAll(/<\/?([a-z0-9]+)/g)].map((m) => m[1]));
    expect([...tags].sort()).toEqual([
      'a',
      'b',
      'body',
      'code',
      'h1',
      'h2',
      'h3',
      'head',
      'html',
      'meta',
      'p',
      'span',
      'style',
      'table',
      'td',
      'th',
      'title',
      'tr',
    ]);
  });

  it('gives the same names back in its JSON, with markup characters escaped', async () => {
    const model = await modelWith(HOSTILE);
    const json = renderStatusJson(model);
    expect(json).not.toMatch(/[<>&\u2028]/);
    const parsed = JSON.parse(json) as typeof model;
    expect(parsed).toEqual(model);
    const targets = parsed.backends[0]?.sockets[0]?.pods.rows.map((r) => r.target);
    expect(targets?.sort()).toEqual([...HOSTILE].sort());
  });

  it('allows its one inline style sheet by hash, and nothing else', async () => {
    const html = renderStatusHtml(await modelWith(['pod-1.web', 'pod-2.web']));
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1] ?? '');
    expect(styles).toHaveLength(1);
    const hash = createHash('sha256')
      .update(styles[0] ?? '')
      .digest('base64');
    expect(STATUS_CSP).toContain(`style-src 'sha256-${hash}'`);
    expect(STATUS_CSP).toMatch(/^default-src 'none';/);
    expect(html).not.toMatch(/<script|<link|src=|style="/);
    expect(html).toContain('<meta http-equiv="refresh" content="5">');
  });

  it('says in words why each pod does or does not get traffic', async () => {
    const html = renderStatusHtml(await modelWith(['pod-1.web', 'pod-2.web', 'pod-3.web']));
    expect(html).toContain('in force: served by slot srv1');
    expect(html).toMatch(
      /10\.1\.0\.3:8080<\/td><td class="mono">pod-3\.web<\/td><td class="mono">-<\/td><td class="st no-slot">no-slot<\/td><td>no slot: 2 of 2 slots in use/,
    );
  });

  it('escapes markup and control characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>\u0007`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\\x07');
  });
});
