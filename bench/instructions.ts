/**
 * What a pass at rest costs in instructions, which other work on the machine does not
 * move (timings on a shared VM do, by a factor of two): the agent at 1000 pods under
 * valgrind's callgrind, instrumented only over a window once the zone's serial is trusted.
 * `node bench/instructions.ts [seconds] [node flags...]` (after `npm run build`; about a
 * minute; valgrind, BIND 9 and HAProxy on loopback). Node flags given here follow the
 * agent's own (src/v8-flags.ts), so `--max-opt=4` compares V8's optimizing tiers.
 * BENCH_AGENT_ENTRY runs another build's main.js (the same agent with a part cut out, say).
 *
 * The agent runs some 50 times slower while instrumented: a window whose DNS questions
 * time out (a loaded machine) is not at rest, and is said so (questions far above 3 a pass).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeFlags } from '../src/v8-flags.ts';
import { podKeys, podsAt, SERVICE, TestBind } from '../test/support/bind.ts';
import { TestHaproxy } from '../test/support/haproxy.ts';
import { freePort, startProc } from '../test/support/procs.ts';
import { atRestArgs, joined, sleep, until, INTERVAL_MS, WEIGHT } from './common.ts';

const [seconds = '20', ...extraFlags] = process.argv.slice(2);
const windowMs = Number(seconds) * 1_000;
const entry = process.env['BENCH_AGENT_ENTRY'] ?? fileURLToPath(new URL('../dist/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hda-callgrind-'));
const bind = new TestBind();
const haproxy = new TestHaproxy({ frontendPort: await freePort(), serverLines: [`server-template srv 1200 127.0.0.1:9 disabled`] });
try {
  await bind.start();
  const all = podsAt(0, 1000);
  const pods = all.slice(0, -1);
  await bind.setPods(pods, SERVICE, 0, WEIGHT);
  await haproxy.start();
  const port = await freePort();
  const args = atRestArgs(haproxy.socket, bind.port, port);
  // The flags given to Node directly: under valgrind the bin does not start Node again.
  const node = [process.execPath, ...nodeFlags(Number(process.versions.node.split('.')[0])), ...extraFlags, entry];
  const agent = startProc('valgrind', [
    '--tool=callgrind',
    '--smc-check=all-non-file',
    '--instr-atstart=no',
    `--callgrind-out-file=${dir}/out`,
    ...node,
    ...args,
  ]);
  const pid = String(agent.child.pid ?? 0);
  const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
  const sum = (text: string, prefix: string): number =>
    text
      .split('\n')
      .filter((l) => l.startsWith(prefix))
      .reduce((total, l) => total + Number(l.split(' ').at(-1)), 0);
  try {
    await until(async () => joined(await haproxy.serving()) === joined(podKeys(pods)), 120_000);
    // One pod more: the serial moves while the agent watches, and stands for the records from its TTL (5 s) plus 2 s on.
    await bind.changePods(pods, all, WEIGHT);
    await until(async () => joined(await haproxy.serving()) === joined(podKeys(all)), 120_000);
    await sleep(10_000);
    const before = await metrics();
    execFileSync('callgrind_control', ['-i', 'on', pid], { stdio: 'ignore' });
    await sleep(windowMs);
    execFileSync('callgrind_control', ['-d', pid], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['-i', 'off', pid], { stdio: 'ignore' });
    const after = await metrics();
    const dump = readdirSync(dir)
      .filter((f) => f.startsWith('out.'))
      .sort()
      .at(-1);
    const total = Number(/^(?:summary|totals): (\d+)/m.exec(readFileSync(join(dir, dump ?? 'out'), 'utf8'))?.[1]);
    const passes = sum(after, 'haproxy_dns_agent_passes_total{lane="dns"') - sum(before, 'haproxy_dns_agent_passes_total{lane="dns"');
    const questions = sum(after, 'haproxy_dns_agent_dns_queries_total') - sum(before, 'haproxy_dns_agent_dns_queries_total');
    console.log(
      `${(total / 1e6).toFixed(1)} M instructions over ${seconds} s at rest: ${(total / (windowMs / INTERVAL_MS) / 1e6).toFixed(2)} M a pass (one a second); ` +
        `${String(passes)} DNS passes and ${String(questions)} DNS questions from the scrape before to the one after (about 3 a pass at rest)`,
    );
  } finally {
    await agent.stop();
  }
} finally {
  await haproxy.stop();
  await bind.stop();
  rmSync(dir, { recursive: true, force: true });
}
