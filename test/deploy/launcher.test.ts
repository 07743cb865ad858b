import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeFlags } from '../../src/v8-flags.ts';
import { agentArgs, TestAgent } from '../support/agent.ts';
import { waitFor } from '../support/procs.ts';

// The bin starts Node again (execve, same PID) with the Node.js flags of src/v8-flags.ts that
// are not already given: `node dist/main.js`, npx and the image all end up with them.
describe('the bin', () => {
  let agent: TestAgent | null = null;
  afterEach(async () => {
    await agent?.stop();
    agent = null;
  });

  /** The running agent's command line, once it has started (after any execve). */
  const commandLine = async (a: TestAgent): Promise<string[]> => {
    await a.waitForLog('starting');
    const pid = a.proc.child.pid ?? 0;
    let args: string[] = [];
    await waitFor('the command line', () => {
      args = readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8')
        .split('\0')
        .filter(Boolean);
      return args.length > 0;
    });
    return args;
  };
  // A nameserver on a port nothing listens on, a socket that is not there: the agent keeps running, failing.
  const args = agentArgs('/nonexistent/admin.sock', '127.0.0.1:9', 'be_app=_http._tcp.web.default.svc.cluster.local');

  it('runs `node dist/main.js` with the flags of src/v8-flags.ts, in the same process, the arguments kept', async () => {
    agent = new TestAgent(args);
    const line = await commandLine(agent);
    const flags = nodeFlags(Number(process.versions.node.split('.')[0]));
    expect(flags).toContain('--max-semi-space-size=1');
    expect(flags).toContain('--disable-sigusr1');
    expect(line.slice(1, 1 + flags.length)).toEqual(flags);
    expect(line.slice(-args.length)).toEqual(args);
  });

  it('adds only the flag not given (the image gives the semi-space size)', async () => {
    agent = new TestAgent(args, {}, ['--max-semi-space-size=1']);
    expect((await commandLine(agent)).filter((a) => a.startsWith('--max'))).toEqual(['--max-opt=1', '--max-semi-space-size=1']);
    await agent.stop();
    agent = new TestAgent(args, {}, ['--max-opt=3']);
    expect((await commandLine(agent)).filter((a) => a.startsWith('--max-opt'))).toEqual(['--max-opt=3']);
  });

  it('keeps the size given on the command line or in NODE_OPTIONS, and starts once', async () => {
    agent = new TestAgent(args, {}, ['--max-semi-space-size=4']);
    expect((await commandLine(agent)).filter((a) => a.includes('semi-space'))).toEqual(['--max-semi-space-size=4']);
    await agent.stop();
    agent = new TestAgent(args, { NODE_OPTIONS: '--max_semi_space_size=2' });
    expect((await commandLine(agent)).filter((a) => a.includes('semi'))).toEqual([]);
    await agent.stop();
    agent = new TestAgent(args, {}, ['--disable-sigusr1', '--max-semi-space-size=2', '--max-opt=2']);
    expect((await commandLine(agent)).slice(1, 4)).toEqual(['--disable-sigusr1', '--max-semi-space-size=2', '--max-opt=2']); // started once, as given
  });
});
