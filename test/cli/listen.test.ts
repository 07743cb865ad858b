import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentArgs, runAgent } from '../support/agent.ts';

describe('the built CLI with --listen on an address it cannot have', () => {
  const taken = net.createServer();
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    port = (taken.address() as net.AddressInfo).port;
  });
  afterAll(() => {
    taken.close();
  });

  it('says so in one line, and nothing else, and exits 1', async () => {
    // Nothing to reach: the agent must end on the address alone, before it talks to anyone.
    const r = await runAgent([
      ...agentArgs('/nonexistent/admin.sock', '127.0.0.1:9', 'be_app=_http._tcp.web.default.svc.cluster.local'),
      '--listen',
      `127.0.0.1:${String(port)}`,
    ]);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: `haproxy-dns-agent: --listen 127.0.0.1:${String(port)}: address already in use (another process listens there)\n`,
    });
  });
});
