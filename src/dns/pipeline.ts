import { randomInt } from 'node:crypto';
import net from 'node:net';
import { describeNameserver, type Nameserver } from '../config/model.ts';
import { DnsError } from '../errors.ts';
import { frameTcp, TcpFrameReader } from './framing.ts';
import { decodeReply, encodeQuery, type Question, type Reply } from './message.ts';
import type { TransportHooks } from './transport.ts';

/** Questions in flight at once on one connection: enough to keep the server busy, few enough to spare it. */
export const PIPELINE_WIDTH = 128;

/**
 * Many questions on one TCP connection, several in flight at once (RFC 7766 6.2.1.1:
 * pipelining), answers matched by ID and question in whatever order they come. One reply
 * (or error) per question, in order. The connection failing, or going quiet for
 * `timeoutMs`, fails the questions still open with a DnsError; answered ones keep theirs.
 */
export function askPipelined(
  ns: Nameserver,
  questions: readonly Question[],
  timeoutMs: number,
  hooks: TransportHooks,
): Promise<(Reply | DnsError)[]> {
  if (questions.length === 0) return Promise.resolve([]);
  return new Promise((resolve) => {
    const results: (Reply | DnsError | undefined)[] = new Array<undefined>(questions.length);
    const open = new Map<number, number>(); // id -> question index
    let next = 0;
    let answered = 0;
    let settled = false;
    const where = describeNameserver(ns);
    const sock = net.connect(ns.port, ns.host);
    const frames = new TcpFrameReader();
    const finish = (why: DnsError | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(questions.map((_, i) => results[i] ?? why ?? new DnsError('malformed', `${where}: no answer on the TCP connection`, 'tcp')));
    };
    let timer = setTimeout(() => undefined, 0);
    const quiet = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        finish(new DnsError('timeout', `${where} went quiet for ${String(timeoutMs)}ms with questions open (tcp)`, 'tcp'));
      }, timeoutMs);
    };
    const send = (): void => {
      const batch: Buffer[] = [];
      while (open.size < PIPELINE_WIDTH && next < questions.length) {
        const q = questions[next] as Question;
        let id = randomInt(0, 65_536);
        while (open.has(id)) id = randomInt(0, 65_536);
        open.set(id, next++);
        batch.push(frameTcp(encodeQuery(q, id)));
      }
      if (batch.length > 0) sock.write(batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch)); // one write, not one per question
    };
    quiet();
    sock.on('connect', send);
    sock.on('data', (chunk: Buffer) => {
      quiet();
      for (const message of frames.push(chunk)) {
        const id = message.length >= 2 ? message.readUInt16BE(0) : -1;
        const index = open.get(id);
        const q = index === undefined ? undefined : questions[index];
        const r = index === undefined || q === undefined ? 'wrong-id' : decodeReply(message, q, id);
        if (typeof r === 'string') {
          hooks.dropped(ns, 'tcp', r);
          continue;
        }
        open.delete(id);
        results[index as number] = r;
        answered++;
      }
      if (answered === questions.length) finish(null);
      else send();
    });
    sock.on('end', () => {
      finish(new DnsError('malformed', `${where} closed the TCP connection with questions open`, 'tcp'));
    });
    sock.on('error', (e) => {
      finish(new DnsError('unreachable', `${where}: ${e.message} (tcp)`, 'tcp'));
    });
  });
}
