import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));

/**
 * What the agent's modules load, in a Node process of their own: each of these cost
 * resident memory for nothing the agent uses (docs/decisions/).
 */
describe("the agent's modules", () => {
  it('load neither node:http(s), OpenSSL (node:crypto) nor @opentelemetry/api, metrics and a query ID included', () => {
    const script = `
      import { createRequire } from 'node:module';
      await import(${JSON.stringify(`${DIST}agent/compose.js`)});
      await import(${JSON.stringify(`${DIST}observability/http.js`)});
      await import('pino');
      const { AgentMetrics } = await import(${JSON.stringify(`${DIST}observability/metrics.js`)});
      const { randomId } = await import(${JSON.stringify(`${DIST}dns/ids.js`)});
      await new AgentMetrics().registry.metrics();
      randomId();
      const cache = Object.keys(createRequire(import.meta.url).cache);
      const builtins = process.moduleLoadList.filter((m) => /^NativeModule (http|https|crypto)$/.test(m));
      console.log(JSON.stringify([...builtins, ...cache.filter((k) => k.includes('@opentelemetry'))]));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim())).toEqual([]);
  });
});
