import { agentArgs } from '../test/support/agent.ts';
import { SERVICE } from '../test/support/bind.ts';

/** What every part of the bench shares: the agent's interval and flags, and how figures are summed up and printed. */

export const INTERVAL_MS = 1_000;
/** As an IPv4 cluster runs the agent: --allow-net <pod network>, so only A records are asked (the test pods are on 127.0.0.0/8). */
export const POD_NET = ['--allow-net', '127.0.0.0/8'];
export const WEIGHT = 10;

/** The flags of the agent measured at rest (bench/cost.ts, bench/instructions.ts): one backend of SERVICE, the pod network, the interval, metrics on `listenPort`. */
export const atRestArgs = (socket: string, dnsPort: number, listenPort: number): string[] => [
  ...agentArgs(socket, `127.0.0.1:${String(dnsPort)}`, `be_app=${SERVICE}`),
  ...POD_NET,
  '--interval',
  `${String(INTERVAL_MS)}ms`,
  '--listen',
  `127.0.0.1:${String(listenPort)}`,
];

/** A comparable form of a sorted "addr:port" list (TestHaproxy.serving() is sorted, so are podKeys). */
export const joined = (xs: readonly string[]): string => xs.join(',');
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
}

export const fmt = (ms: number): string => (Number.isNaN(ms) ? 'n/a' : ms >= 100 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

/** A row of a targets table: what, the figure, and whether it was met (and by how much not). */
export const targetRow = (what: string, measured: string, ok: boolean, by: string): string =>
  `| ${what} | ${measured} | ${ok ? 'yes' : `no, by ${by}`} |`;

export async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('did not converge');
    await sleep(50);
  }
}

/** A whole number from the environment (its default when unset), or one clear error naming the variable and what it takes. */
export function envInt(name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`${name}=${text}: expected a whole number from ${String(min)} to ${String(max)}`);
  return n;
}

/** A comma-separated list of whole numbers from the environment, each checked as envInt checks one. */
export function envInts(name: string, fallback: readonly number[], min: number, max: number): number[] {
  const text = process.env[name];
  if (text === undefined || text === '') return [...fallback];
  return text.split(',').map((part) => {
    const n = Number(part);
    if (part === '' || !Number.isInteger(n) || n < min || n > max)
      throw new Error(`${name}=${text}: expected whole numbers from ${String(min)} to ${String(max)}, comma-separated`);
    return n;
  });
}
