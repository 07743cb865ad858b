import net from 'node:net';
import { describeNameserver, type Nameserver } from '../config/model.ts';
import { DnsError } from '../errors.ts';
import { TcpFrameReader } from './framing.ts';
import { randomId } from './ids.ts';
import { decodeKnown, queryTemplate, type KnownReply, type Question, type Reply } from './message.ts';
import { stopping } from './question.ts';
import type { DnsObserver } from './answer.ts';
import { unreachableError } from './transport.ts';

/** A pipelined question's reply: the known one (`same`), or a new one with its bytes (a copy, to keep). */
export type Pipelined = Readonly<{ reply: Reply; same: true }> | Readonly<{ reply: Reply; same: false; raw: Buffer }>;

/** Questions in flight at once on one connection: enough to keep the server busy, few enough to spare it. */
export const PIPELINE_WIDTH = 256;

/**
 * Many questions on one TCP connection, several in flight at once (RFC 7766 6.2.1.1:
 * pipelining), answers matched by ID and question in whatever order they come. One reply
 * (or error) per question, in order; a reply that is `known`'s (the question's at the same
 * index) but for its ID is that reply, not decoded again (`same`): at 1000 pods a target's
 * A record is asked again every time its TTL runs out, hundreds a second. The connection failing, or `deadlineMs` passing (the
 * time the run has left: a busy server that trickles answers does not hold a run up), fails
 * the questions still open with a DnsError; answered ones keep theirs. `signal` aborting (the
 * agent stopping) closes the connection at once. Replies dropped are counted in `observer`.
 */
export function askPipelined(
  ns: Nameserver,
  questions: readonly Question[],
  deadlineMs: number,
  observer: DnsObserver,
  known: readonly (KnownReply | undefined)[] = [],
  signal?: AbortSignal,
): Promise<(Pipelined | DnsError)[]> {
  if (questions.length === 0) return Promise.resolve([]);
  if (signal?.aborted === true) return Promise.resolve(questions.map(() => stopping()));
  return new Promise((resolve) => {
    const results: (Pipelined | DnsError | undefined)[] = new Array<undefined>(questions.length);
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
      signal?.removeEventListener('abort', aborted);
      sock.destroy();
      resolve(questions.map((_, i) => results[i] ?? why ?? new DnsError('malformed', `${where}: no answer on the TCP connection`, 'tcp')));
    };
    const timer = setTimeout(() => {
      finish(
        new DnsError(
          'timeout',
          `${where} left ${String(open.size + questions.length - next)} questions unanswered within ${String(deadlineMs)}ms (tcp)`,
          'tcp',
        ),
      );
    }, deadlineMs);
    const aborted = (): void => {
      finish(stopping());
    };
    signal?.addEventListener('abort', aborted, { once: true });
    const send = (): void => {
      // Topped up once half the window is answered: fewer, larger writes.
      if (open.size > PIPELINE_WIDTH / 2) return;
      const room = Math.min(PIPELINE_WIDTH - open.size, questions.length - next);
      if (room <= 0) return;
      // One write for the batch, each query framed with its length.
      const templates = questions.slice(next, next + room).map(queryTemplate);
      const batch = Buffer.allocUnsafe(templates.reduce((n, t) => n + 2 + t.length, 0));
      let at = 0;
      for (const t of templates) {
        let id = randomId();
        while (open.has(id)) id = (id + 1) & 0xffff;
        open.set(id, next++);
        batch.writeUInt16BE(t.length, at);
        t.copy(batch, at + 2);
        batch.writeUInt16BE(id, at + 2);
        at += 2 + t.length;
      }
      sock.write(batch);
    };
    sock.on('connect', send);
    sock.on('data', (chunk: Buffer) => {
      for (const message of frames.push(chunk)) {
        const id = message.length >= 2 ? message.readUInt16BE(0) : -1;
        const index = open.get(id);
        const q = index === undefined ? undefined : questions[index];
        const r = index === undefined || q === undefined ? 'wrong-id' : decodeKnown(message, q, id, known[index]);
        if (typeof r === 'string') {
          observer.dropped(ns, 'tcp', r);
          continue;
        }
        open.delete(id);
        // A new reply's bytes are copied to be kept: the frame is a view into the chunk read.
        results[index as number] = r.same ? r : { reply: r.reply, same: false, raw: Buffer.from(message) };
        answered++;
      }
      if (answered === questions.length) finish(null);
      else send();
    });
    sock.on('end', () => {
      finish(new DnsError('malformed', `${where} closed the TCP connection with questions open`, 'tcp'));
    });
    sock.on('error', (e) => {
      finish(unreachableError(ns, 'tcp', e));
    });
  });
}
