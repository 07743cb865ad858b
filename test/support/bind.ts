import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startProc, waitFor, type Proc } from './procs.ts';

export const ZONE = 'cluster.local';
export const SERVICE = `_http._tcp.web.default.svc.${ZONE}`;

export type Pod = Readonly<{ address: string; port: number }>;

/** The pod's DNS name, the way Kubernetes names endpoints of a headless service. */
export const podName = (address: string): string =>
  address.includes(':')
    ? `v6${address.replaceAll(':', '-')}.web.default.svc.${ZONE}`
    : `${address.replaceAll('.', '-')}.web.default.svc.${ZONE}`;

/**
 * BIND 9 serving `cluster.local` on 127.0.0.1 with dynamic updates open to loopback:
 * the tests change the headless service with nsupdate, as the Kubernetes endpoints of
 * a service change under CoreDNS.
 */
export class TestBind {
  readonly dir: string;
  port = 0;
  proc: Proc | null = null;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'hda-bind-'));
  }

  async start(port?: number): Promise<void> {
    this.port = port ?? (this.port === 0 ? await freePort() : this.port);
    writeFileSync(
      join(this.dir, 'named.conf'),
      `options {
  directory "${this.dir}";
  listen-on port ${String(this.port)} { 127.0.0.1; };
  listen-on-v6 { none; };
  pid-file "${this.dir}/named.pid";
  session-keyfile "${this.dir}/session.key";
  recursion no;
  max-records-per-type 0;
  dnssec-validation no;
  notify no;
  // A zone publishes what its writers put in it: the hostile-answer tests need names that
  // are not host names, as a compromised or mistaken zone would serve them.
  check-names primary ignore;
};
controls { };
zone "${ZONE}" { type primary; file "${this.dir}/${ZONE}.db"; allow-update { 127.0.0.1; }; };
`,
    );
    writeFileSync(
      join(this.dir, `${ZONE}.db`),
      `$TTL 5\n@ IN SOA ns.${ZONE}. admin.${ZONE}. 1 60 60 600 5\n@ IN NS ns.${ZONE}.\nns IN A 127.0.0.1\n`,
    );
    // -g: foreground, logs on stderr; -n 1: one worker thread is plenty on loopback.
    this.proc = startProc('named', ['-g', '-n', '1', '-c', join(this.dir, 'named.conf')]);
    const proc = this.proc;
    await waitFor(`named on port ${String(this.port)} (output: ${proc.output().slice(-500)})`, () => proc.output().includes('running'));
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
    this.proc = null;
  }

  /**
   * Replaces the SRV set of `service` with `pods` (weight 100/N, as CoreDNS publishes).
   * One update message holds a few hundred records, so a large set goes in several: the
   * pods' addresses first, then the SRV set, which a resolver may see grow in steps.
   */
  async setPods(pods: readonly Pod[], service = SERVICE, priority = 0, fixedWeight?: number): Promise<void> {
    const weight = fixedWeight ?? (pods.length === 0 ? 0 : Math.floor(100 / pods.length));
    const head = [`server 127.0.0.1 ${String(this.port)}`, `zone ${ZONE}`];
    const chunks = <T>(xs: readonly T[]): T[][] =>
      Array.from({ length: Math.ceil(xs.length / 300) }, (_, i) => xs.slice(i * 300, i * 300 + 300));
    for (const chunk of chunks(pods)) {
      const lines = chunk.map((p) => `update add ${podName(p.address)}. 5 IN ${p.address.includes(':') ? 'AAAA' : 'A'} ${p.address}`);
      await nsupdate([...head, ...lines, 'send', ''].join('\n'));
    }
    const srv = pods.map(
      (p) => `update add ${service}. 5 IN SRV ${String(priority)} ${String(weight)} ${String(p.port)} ${podName(p.address)}.`,
    );
    const [first = [], ...rest] = chunks(srv);
    await nsupdate([...head, `update delete ${service}. SRV`, ...first, 'send', ''].join('\n'));
    for (const chunk of rest) await nsupdate([...head, ...chunk, 'send', ''].join('\n'));
  }

  /** What named logged about updates, for a failure message. */
  updateLog(): string {
    return (this.proc?.output() ?? '')
      .split('\n')
      .filter((l) => /update|journal|SERVFAIL/i.test(l))
      .slice(-5)
      .join('\n');
  }

  /**
   * Changes the SRV set from `before` to `after` in one update message (records of a
   * constant weight): one atomic change, so "time since the DNS update" is well defined.
   */
  async changePods(before: readonly Pod[], after: readonly Pod[], weight: number, service = SERVICE): Promise<void> {
    const key = (p: Pod): string => `${p.address}:${String(p.port)}`;
    const had = new Set(before.map(key));
    const has = new Set(after.map(key));
    const rr = (p: Pod): string => `${service}. 5 IN SRV 0 ${String(weight)} ${String(p.port)} ${podName(p.address)}.`;
    const lines = [`server 127.0.0.1 ${String(this.port)}`, `zone ${ZONE}`];
    // Deletions first: BIND applies the message in order and an RRset must stay under 64 KB.
    for (const p of before) if (!has.has(key(p))) lines.push(`update delete ${rr(p)}`);
    for (const p of after) if (!had.has(key(p))) lines.push(`update add ${podName(p.address)}. 5 IN A ${p.address}`, `update add ${rr(p)}`);
    await nsupdate([...lines, 'send', ''].join('\n'));
  }

  /** Sends nsupdate lines (master-file syntax, `\DDD` escapes allowed) in one message. */
  async update(lines: readonly string[]): Promise<void> {
    await nsupdate([`server 127.0.0.1 ${String(this.port)}`, `zone ${ZONE}`, 'check-names no', ...lines, 'send', ''].join('\n'));
  }

  /** Deletes every record of `name`: the service is gone (NXDOMAIN). */
  async deleteName(name = SERVICE): Promise<void> {
    await nsupdate([`server 127.0.0.1 ${String(this.port)}`, `zone ${ZONE}`, `update delete ${name}.`, 'send', ''].join('\n'));
  }
}

/**
 * nsupdate over TCP (-v): a 1000-record update does not fit a UDP message. Tried again for
 * about 7 s: just after named started, on a loaded machine, nsupdate sometimes ends with
 * "operation canceled" before the update reached the zone (seen three times in a row within
 * a second, in a soak); every update the tests send (adds and deletes of whole records)
 * gives the same zone when applied twice.
 */
async function nsupdate(script: string): Promise<void> {
  const waits = [250, 500, 1_000, 1_000, 2_000, 2_000];
  for (let tryNo = 0; ; tryNo++) {
    try {
      await nsupdateOnce(script);
      return;
    } catch (err) {
      const wait = waits[tryNo];
      if (wait === undefined) throw err;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

function nsupdateOnce(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('nsupdate', ['-v'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.stdout.on('data', (c: Buffer) => (err += c.toString()));
    p.once('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`nsupdate failed (${String(code)}): ${err}`));
    });
    p.stdin.end(script);
  });
}

/** "addr:port" of each pod, sorted, as TestHaproxy.serving() lists servers. */
export const podKeys = (pods: readonly Pod[]): string[] => pods.map((p) => `${p.address}:${String(p.port)}`).sort();

/** Pods at 127.0.1.1, 127.0.1.2, ... (loopback: every 127/8 address is local). */
export function podsAt(from: number, count: number, port = 8080): Pod[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    return { address: `127.0.${String(1 + Math.floor(n / 250))}.${String(1 + (n % 250))}`, port };
  });
}
