import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseServersState } from '../../src/haproxy/parse.ts';
import { agentArgs, LOOPBACK_PODS, runAgent, TestAgent } from '../support/agent.ts';
import { podKeys as keys, podsAt, SERVICE, TestBind, type Pod } from '../support/bind.ts';
import { TestHaproxy } from '../support/haproxy.ts';
import { get, TestPods } from '../support/pods.ts';
import { freePort, waitFor } from '../support/procs.ts';

/** Slots HAProxy gives back in full from a server-state-file: a name never resolved, the placeholder to start from. */
const NAMED_SLOTS = ['server-template srv 6 slot.invalid:9 init-addr last,127.0.0.1 disabled'];
/** A backend the agent does not manage: the file is HAProxy's whole dump, this one's line included. */
const OTHER = 'backend be_other\n    server other 127.0.0.1:9 disabled\n';

describe('--server-state-file: a bare reload starts filled (Debian HAProxy in master-worker mode + BIND 9)', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  /** HAProxy -W loading `server-state-file` (slots declared with a name, and be_other), BIND with `pods`, the pods answering. */
  async function setup(count = 4): Promise<{ haproxy: TestHaproxy; bind: TestBind; pods: Pod[]; args: string[] }> {
    const bind = new TestBind();
    await bind.start();
    cleanup.push(() => bind.stop());
    // Pods that answer, on a port of their own: other test runs on this machine serve 8080 on the same addresses.
    const pods = podsAt(0, count, await freePort());
    const servers = new TestPods();
    await servers.start(pods);
    cleanup.push(() => servers.stop());
    await bind.setPods(pods);
    const haproxy = new TestHaproxy({ frontendPort: await freePort(), mode: 'master-worker', stateFile: true, serverLines: NAMED_SLOTS });
    writeFileSync(haproxy.cfg, `${haproxy.config()}${OTHER}`);
    await haproxy.start();
    cleanup.push(() => haproxy.stop());
    const args = [...agentArgs(haproxy.socket, `127.0.0.1:${String(bind.port)}`, `be_app=${SERVICE}`), ...LOOPBACK_PODS];
    return { haproxy, bind, pods, args };
  }

  /** The servers of be_app the file would make ready at a reload (not in maintenance), as address:port. */
  const inFile = (path: string): string[] => {
    if (!existsSync(path)) return [];
    return parseServersState(readFileSync(path, 'utf8'))
      .filter((s) => s.backend === 'be_app' && (s.adminBits & 0x23) === 0)
      .map((s) => `${s.address}:${String(s.port)}`)
      .sort();
  };

  it('the agent stopped, a SIGUSR2 to the master with no script: the new worker serves the pods at once, sticky clients kept', async () => {
    const { haproxy, pods, args } = await setup();
    const agent = new TestAgent([...args, '--server-state-file', haproxy.stateFile]);
    cleanup.push(() => agent.stop());
    await haproxy.waitServing(keys(pods));
    await waitFor(`the file to hold the pods (${haproxy.stateFile})`, () => inFile(haproxy.stateFile).join(' ') === keys(pods).join(' '));
    // HAProxy's own dump, as the usual script writes it: the backend the agent does not manage is in it.
    const text = readFileSync(haproxy.stateFile, 'utf8');
    expect(parseServersState(text).map((s) => `${s.backend}/${s.name}`)).toContain('be_other/other');
    expect(text).toMatch(/\n\n$/);
    const mine = keys(pods.slice(1, 2))[0] ?? '';
    let cookie: string | null = null;
    for (let i = 0; i < 12 && cookie === null; i++) {
      const r = await get(haproxy.options.frontendPort);
      if (r.pod === mine) cookie = r.cookie;
    }
    expect(cookie).not.toBeNull();
    await agent.stop(); // nothing but HAProxy fills the new worker

    await haproxy.reload(); // SIGUSR2 alone: no saveState()

    expect(await haproxy.serving()).toEqual(keys(pods));
    for (let i = 0; i < 3; i++) expect((await get(haproxy.options.frontendPort, cookie ?? '')).pod).toBe(mine);
  });

  it('writes nothing more at rest, writes the file again when it goes missing, and after a scale event', async () => {
    const { haproxy, bind, pods, args } = await setup();
    const agent = new TestAgent([...args, '--interval', '200ms', '--drain', '0', '--server-state-file', haproxy.stateFile]);
    cleanup.push(() => agent.stop());
    await waitFor('the file to hold the pods', () => inFile(haproxy.stateFile).join(' ') === keys(pods).join(' '));
    const written = statSync(haproxy.stateFile).ino;
    await new Promise((r) => setTimeout(r, 1_500)); // some 7 intervals at rest
    expect(statSync(haproxy.stateFile).ino).toBe(written); // never replaced: nothing changed
    rmSync(haproxy.stateFile);
    await waitFor('the file to be written again', () => inFile(haproxy.stateFile).join(' ') === keys(pods).join(' '));
    await bind.setPods(pods.slice(0, 3));
    await waitFor('the file to follow the scale event', () => inFile(haproxy.stateFile).join(' ') === keys(pods.slice(0, 3)).join(' '));
  });

  it('--once writes the dump; --dry-run writes nothing', async () => {
    const { haproxy, args } = await setup(2);
    const dry = await runAgent([...args, '--once', '--dry-run', '--server-state-file', haproxy.stateFile]);
    expect(dry.code).toBe(0);
    expect(existsSync(haproxy.stateFile)).toBe(false);
    const once = await runAgent([...args, '--once', '--server-state-file', haproxy.stateFile]);
    expect(once.code).toBe(0);
    expect(inFile(haproxy.stateFile)).toEqual(await haproxy.serving());
  });
});
