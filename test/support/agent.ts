import { fileURLToPath } from 'node:url';
import { parseLogLines, type LogLine } from './logs.ts';
import { startProc, waitFor, type Proc } from './procs.ts';

/** The built CLI, as `npm ci` leaves it. */
export const AGENT_BIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** The flags most test agents share: one socket, one backend and its record, one nameserver. */
export const agentArgs = (socket: string, nameserver: string, backend: string): string[] => [
  '--socket',
  socket,
  '--backend',
  backend,
  '--nameserver',
  nameserver,
];

/** Test pods listen on loopback (127.0.0.0/8, ::1), which the agent refuses unless allowed. */
export const LOOPBACK_PODS = ['--allow-net', '127.0.0.0/8', '--allow-net', '::1'];

/** The agent binary as a child process, with its JSON log lines at hand. */
export class TestAgent {
  readonly proc: Proc;

  constructor(args: readonly string[], env: NodeJS.ProcessEnv = {}, nodeArgs: readonly string[] = []) {
    this.proc = startProc(process.execPath, [...nodeArgs, AGENT_BIN, ...args], { ...process.env, ...env });
  }

  logs(): LogLine[] {
    return parseLogLines(this.proc.output());
  }

  /** Log lines whose msg is `msg`, or matches it. */
  count(msg: string | RegExp): number {
    return this.logs().filter((l) => (typeof msg === 'string' ? l.msg === msg : typeof l.msg === 'string' && msg.test(l.msg))).length;
  }

  async waitForLog(msg: string | RegExp, timeoutMs = 10_000): Promise<void> {
    await waitFor(
      () => `log ${String(msg)} (output: ${this.proc.output().slice(-1500)})`,
      () => this.count(msg) > 0,
      timeoutMs,
    );
  }

  stop(): Promise<void> {
    return this.proc.stop();
  }
}

/** Runs the CLI to completion. */
export async function runAgent(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 30_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [AGENT_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`agent did not exit within ${String(timeoutMs)}ms: ${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}
