/**
 * `memory`: the agent's resolver asked answer after answer by a DNS server that says new
 * names every time (a rollout's new pods; the SRV name a CNAME to a new name), and its live
 * heap after a full GC, warmed up and at the end. What the resolver keeps must be bounded
 * by what the answer in force names, not by every name DNS has said.
 */
import { spawn } from 'node:child_process';
import dnsPacket, { type Answer, type DecodedPacket } from 'dns-packet';
import { DnsServer, RCODE } from '../test/support/dns-server.ts';
import { envInt, targetRow } from './common.ts';

const ZONE = 'bench.memory';
const SERVICE = `_http._tcp.web.${ZONE}`;
const ALIAS = `_http._tcp.alias.${ZONE}`;
/** Records in each answer: 200, as the first report of the leak had. */
const RECORDS = 200;
/** Answers before the first reading: the code's own heap (compiled functions, their feedback) has grown to its size by then. */
const WARM_UP = 500;
/** The most a heap may grow over the answers and still count as flat. */
const FLAT_MIB = 3;

type Scenario = Readonly<{
  key: string;
  what: string;
  record: string;
  /** The pods of answer `g`, by number (each number its own name and address). */
  pods: (g: number) => readonly number[];
  /** The glue (A records in the additional section), or the targets' addresses looked up. */
  glue: boolean;
  /** The record is a CNAME to a new name each answer, asked on its own. */
  cname: boolean;
}>;

const same = (): number[] => Array.from({ length: RECORDS }, (_, i) => i);
const fresh = (g: number): number[] => Array.from({ length: RECORDS }, (_, i) => g * RECORDS + i);

const SCENARIOS: readonly Scenario[] = [
  { key: 'same', what: 'the same names every answer', record: SERVICE, pods: same, glue: true, cname: false },
  { key: 'targets', what: 'new target names every answer', record: SERVICE, pods: fresh, glue: true, cname: false },
  { key: 'lookups', what: 'new target names every answer, addresses looked up', record: SERVICE, pods: fresh, glue: false, cname: false },
  { key: 'cname', what: 'the SRV name a CNAME to a new name every answer', record: ALIAS, pods: same, glue: true, cname: true },
];

export type MemoryRow = Readonly<{
  scenario: string;
  what: string;
  answers: number;
  before: number;
  after: number;
  caches: Record<string, number>;
}>;

const podName = (k: number): string => `pod-${String(k)}.web.${ZONE}`;
const podAddress = (k: number): string => `10.${String((k >> 16) & 255)}.${String((k >> 8) & 255)}.${String(k & 255)}`;

/** A DNS server for one scenario: every SRV question for the record (or its CNAME) is answered with the next answer's names. */
function server(s: Scenario): DnsServer {
  let generation = 0;
  return new DnsServer((query: DecodedPacket, transport) => {
    const q = query.questions?.[0];
    const name = (q?.name ?? '').toLowerCase();
    const reply = (answers: Answer[], additionals: Answer[] = [], rcode: number = RCODE.NOERROR, authorities: Answer[] = []): Buffer => {
      const bytes = dnsPacket.encode({
        type: 'response',
        id: query.id ?? 0,
        flags: dnsPacket.AUTHORITATIVE_ANSWER | rcode,
        questions: query.questions ?? [],
        answers,
        authorities,
        additionals,
      });
      if (transport === 'udp' && bytes.length > 1232)
        return dnsPacket.encode({
          type: 'response',
          id: query.id ?? 0,
          flags: dnsPacket.TRUNCATED_RESPONSE,
          questions: query.questions ?? [],
        });
      return bytes;
    };
    if (q?.type === 'SOA') {
      // The zone's serial moves with every answer, as BIND's does with every update.
      const data = { mname: `ns.${ZONE}`, rname: `admin.${ZONE}`, serial: generation, refresh: 60, retry: 60, expire: 600, minimum: 5 };
      return reply([], [], RCODE.NOERROR, [{ type: 'SOA', name: ZONE, ttl: 5, data }]);
    }
    if (q?.type === 'SRV' && s.cname && name === ALIAS)
      return reply([{ type: 'CNAME', name: ALIAS, ttl: 5, data: `_http._tcp.web-${String(++generation)}.${ZONE}` }]);
    if (q?.type === 'SRV' && (name === SERVICE || name.startsWith('_http._tcp.web-'))) {
      const pods = s.pods(s.cname ? generation : generation++);
      const srv: Answer[] = pods.map((k) => ({
        type: 'SRV',
        name,
        ttl: 5,
        data: { priority: 0, weight: 10, port: 8080, target: podName(k) },
      }));
      const glue: Answer[] = s.glue ? pods.map((k) => ({ type: 'A', name: podName(k), ttl: 5, data: podAddress(k) })) : [];
      return reply(srv, glue);
    }
    const pod = /^pod-(\d+)\.web\./.exec(name);
    if (pod !== null && q?.type === 'A') return reply([{ type: 'A', name, ttl: 5, data: podAddress(Number(pod[1])) }]);
    return reply([], [], pod === null ? RCODE.NXDOMAIN : RCODE.NOERROR);
  });
}

/** Runs the worker (the resolver in a process of its own, with --expose-gc) against the scenario's server. */
async function measure(s: Scenario, answers: number): Promise<MemoryRow> {
  const dns = server(s);
  await dns.start();
  try {
    const worker = spawn(
      process.execPath,
      [
        '--expose-gc',
        '--no-flush-bytecode',
        new URL('./memory-worker.ts', import.meta.url).pathname,
        String(dns.port),
        s.record,
        String(WARM_UP),
        String(answers),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    worker.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => worker.on('close', resolve));
    if (code !== 0) throw new Error(`memory worker (${s.key}) exited with ${String(code)}`);
    const r = JSON.parse(out) as { before: number; after: number; caches: Record<string, number> };
    return { scenario: s.key, what: s.what, answers, ...r };
  } finally {
    await dns.stop();
  }
}

export async function memoryPart(): Promise<MemoryRow[]> {
  const answers = envInt('BENCH_MEMORY_ANSWERS', 2_000, 100, 100_000);
  const rows: MemoryRow[] = [];
  for (const s of SCENARIOS) {
    const r = await measure(s, answers);
    rows.push(r);
    process.stdout.write(`  ${s.what}: ${r.before.toFixed(1)} -> ${r.after.toFixed(1)} MiB after ${String(answers)} answers\n`);
  }
  return rows;
}

export function memoryTargets(rows: readonly MemoryRow[]): string[] {
  return rows.map((r) => {
    const grew = r.after - r.before;
    return targetRow(
      `heap after GC through ${String(r.answers)} answers of ${String(RECORDS)} records, ${r.what}: flat (grows <= ${String(FLAT_MIB)} MiB)`,
      `${r.before.toFixed(1)} -> ${r.after.toFixed(1)} MiB`,
      grew <= FLAT_MIB,
      `${(grew - FLAT_MIB).toFixed(1)} MiB`,
    );
  });
}

export function memorySection(rows: readonly MemoryRow[], runLabel: string): string[] {
  return [
    '## Memory through DNS that says new names',
    '',
    `${runLabel} The agent's resolver (in a process of its own, started with \`--expose-gc --no-flush-bytecode\`: a function's bytecode flushed would read as memory freed) asks a record of a DNS server in the bench's process answer after answer, as fast as it answers, each answer ${String(RECORDS)} SRV records over TCP; the live heap is read after a full GC once ${String(WARM_UP)} answers have warmed it up, and again after the answers counted. New target names: each answer's pods have names (and addresses) no answer before had, as a rollout's pods do, with their addresses in the additional section or looked up (A questions pipelined on one connection). CNAME: the record is a CNAME to a new name each answer, whose SRV records are asked in a question of their own. \`--serial-trust\` is on, so the zone serial's tables are kept too.`,
    '',
    '| answers | what DNS says | heap after GC, warmed up | heap after GC, at the end | caches at the end |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${String(r.answers)} | ${r.what} | ${r.before.toFixed(1)} MiB | ${r.after.toFixed(1)} MiB | ${Object.entries(r.caches)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${k} ${String(n)}`)
          .join(', ')} |`,
    ),
    '',
    '| target | measured | met |',
    '|---|---|---|',
    ...memoryTargets(rows),
    '',
  ];
}
