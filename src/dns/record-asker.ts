import type { RecordType } from 'dns-packet';
import { DnsError } from '../errors.ts';
import type { AnsweredBy, DnsObserver } from './answer.ts';
import { EDNS_UDP_SIZE, keptQuestion, replySignature, type KnownReply, type Question, type Reply } from './message.ts';
import { askQuestion, type Bounds, type QuestionPlan, type QuestionResult } from './question.ts';
import { statusOf } from './records.ts';
import type { RetryPolicy } from './retry-policy.ts';

/**
 * An answered question: its status (a failure is a DnsError), the name asked, the reply, and
 * the reply's generation: the same while an SRV record's answer comes back the same (the same
 * bytes but the ID, or the same records in another order), a new one for every other reply;
 * and which nameserver answered it, how fast.
 */
export type Lookup = Readonly<{ status: 'ok' | 'nxdomain' | 'nodata'; name: string; reply: Reply; generation: number; by: AnsweredBy }>;

/** How one SRV question is asked next: the same question object, its last answer (and its generation), whether its answer needs TCP. */
type Kept = { question: Question; known: KnownReply | undefined; generation: number; overTcp: boolean };

/**
 * One question at a time, asked as askQuestion does, the nameserver, retries and deadline
 * chosen by RetryPolicy, which learns from each question's round trips and answer. For an
 * SRV record, what decides how it is asked next: its last answer (the same bytes are not
 * decoded again; none yet, and the first try goes over UDP and TCP at once) and whether its
 * answer needs TCP. Kept for the names in force only (`keep`): a CNAME to a new name each
 * answer must not leave every name behind.
 */
export class RecordAsker {
  readonly #policy: RetryPolicy;
  readonly #observer: DnsObserver;
  readonly #now: () => number;
  /** Per SRV name asked. */
  readonly #kept = new Map<string, Kept>();
  /** The last generation given to a reply. */
  #generation = 0;

  /** Each try is counted in `observer` as it ends. */
  constructor(policy: RetryPolicy, observer: DnsObserver, now: () => number) {
    this.#policy = policy;
    this.#observer = observer;
    this.#now = now;
  }

  /** Asks `name`, within `bounds` (the run's end, the agent stopping). */
  async ask(name: string, type: RecordType, bounds: Bounds = {}): Promise<Lookup> {
    if (type !== 'SRV') {
      const { answer } = await this.#ask({ name, type }, this.#policy.plan(false), undefined, bounds);
      if (answer instanceof DnsError) throw answer;
      const by = { ns: answer.ns, rttMs: answer.rttMs };
      return { status: statusOf(answer.reply) as Lookup['status'], name, reply: answer.reply, generation: ++this.#generation, by };
    }
    let k = this.#kept.get(name);
    if (k === undefined) {
      k = { question: keptQuestion(name, type), known: undefined, generation: 0, overTcp: false };
      this.#kept.set(name, k);
    }
    const { known, generation } = k;
    const { answer, truncated } = await this.#ask(k.question, this.#policy.plan(k.overTcp, true, known !== undefined), known, bounds);
    // An SRV answer truncated over UDP is asked over TCP at once from then on, even if this question failed.
    if (truncated) k.overTcp = true;
    if (answer instanceof DnsError) throw answer;
    const { reply, transport, raw, same } = answer;
    const by = { ns: answer.ns, rttMs: answer.rttMs };
    // An answer larger than a datagram, truncated over UDP or had whole over TCP (a first question asks both): TCP at once.
    if (truncated || (transport === 'tcp' && raw.length > EDNS_UDP_SIZE)) k.overTcp = true;
    else if (transport === 'tcp') k.overTcp = false;
    // The SRV answer is the one asked every pass: kept, so that the same bytes are not decoded again, under a generation of its own.
    if (same) return { status: statusOf(reply) as Lookup['status'], name, reply, generation, by };
    k.known = { raw: Buffer.from(raw), reply, signature: replySignature(raw) };
    k.generation = ++this.#generation;
    return { status: statusOf(reply) as Lookup['status'], name, reply, generation: k.generation, by };
  }

  /** One question: RetryPolicy learns its round trips, and which server answered (asked first next time). */
  async #ask(q: Question, plan: QuestionPlan, known: KnownReply | undefined, bounds: Bounds): Promise<QuestionResult> {
    const result = await askQuestion(q, plan, this.#observer, known, this.#now, bounds);
    this.#policy.learn(result.roundTrips);
    if (!(result.answer instanceof DnsError)) this.#policy.answered(result.answer.ns);
    return result;
  }

  /** Forgets every name but `names` (those the records in force went through). */
  keep(names: ReadonlySet<string>): void {
    for (const name of this.#kept.keys()) if (!names.has(name)) this.#kept.delete(name);
  }

  /** How many SRV names are kept, for tests and the benchmark. */
  get size(): number {
    return this.#kept.size;
  }
}
