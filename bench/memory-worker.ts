/**
 * The memory part's measuring process (started with --expose-gc): the agent's resolver asks
 * the bench's DNS server `answers` times in a row, and the live heap is read after a full
 * GC, once warmed up and at the end. Its only output is one JSON line.
 *
 *   node --expose-gc --no-flush-bytecode bench/memory-worker.ts <port> <record> <warm-up answers> <answers>
 */
import { Resolver } from '../src/dns/resolver.ts';

declare const gc: () => void;

function heapMiB(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

async function main(): Promise<void> {
  const [port, record, warmUp, answers] = process.argv.slice(2);
  const n = Number(answers);
  const resolver = new Resolver({
    nameservers: [{ host: '127.0.0.1', port: Number(port) }],
    search: [],
    ndots: 1,
    timeoutMs: 5_000,
    attempts: 2,
    families: ['A'],
    serialTrust: { maxMs: 30_000, freshMs: 0 },
  });
  const ask = async (): Promise<void> => {
    const a = await resolver.resolve({ kind: 'srv', name: record ?? '' });
    if (a.status !== 'ok') throw new Error(`${record ?? ''}: ${a.status}`);
  };
  for (let i = 0; i < Number(warmUp); i++) await ask();
  const before = heapMiB();
  for (let i = 0; i < n; i++) await ask();
  const after = heapMiB();
  process.stdout.write(`${JSON.stringify({ before, after, caches: resolver.cacheSizes() })}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`memory worker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
