import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DnsError } from '../../src/errors.ts';
import { renderStatusJson } from '../../src/observability/status-page.ts';
import { agentHarness, SRV } from '../support/agent-harness.ts';
import { FakeHaproxy, slots } from '../support/fake-haproxy.ts';
import { ROOT } from './kustomize.ts';

/** Every key path of a JSON value: `a.b`, `a.list[].c`; an array's elements share one path. */
function keyPaths(value: unknown, at = ''): Set<string> {
  const out = new Set<string>();
  if (Array.isArray(value)) {
    for (const v of value) for (const p of keyPaths(v, `${at}[]`)) out.add(p);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const path = at === '' ? k : `${at}.${k}`;
      out.add(path);
      for (const p of keyPaths(v, path)) out.add(p);
    }
  }
  return out;
}

describe('docs/status.md', () => {
  it('shows every key /status.json has, and no other', async () => {
    // A model where nothing that can be an object is null: a drain, an added server, DNS failing while held.
    const h = new FakeHaproxy({ be_app: slots(1) });
    h.version = '2.6.12';
    const { agent, dns, clock } = agentHarness([h], { dynamic: true });
    const pod = (n: number) => ({
      target: `pod-${String(n)}.web`,
      address: `10.1.0.${String(n)}`,
      port: 8080,
      weight: 10,
      priority: 0,
      ttl: 5,
    });
    dns.answers.set(SRV, [pod(1), pod(2)]);
    await agent.pass();
    dns.answers.set(SRV, [pod(2), pod(3)]);
    await agent.pass();
    dns.answers.set(SRV, new DnsError('timeout', 'no answer'));
    await agent.pass();
    const json: unknown = JSON.parse(renderStatusJson(agent.statusModel(clock.now)));
    const doc = readFileSync(join(ROOT, 'docs/status.md'), 'utf8');
    const example = /```json\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    expect([...keyPaths(JSON.parse(example) as unknown)].sort()).toEqual([...keyPaths(json)].sort());
  });
});
