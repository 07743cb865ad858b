import type { RecordType } from 'dns-packet';
import { EDNS_UDP_SIZE, keptQuestion, replySignature, type KnownReply, type Question, type Reply } from './message.ts';
import { askQuestion, type Bounds, type QuestionHooks } from './question.ts';
import { statusOf } from './records.ts';
import type { ServerChoice } from './servers.ts';

/** An answered question: its status (a failure is a DnsError), the name asked, the reply. */
export type Lookup = Readonly<{ status: 'ok' | 'nxdomain' | 'nodata'; name: string; reply: Reply }>;

/** How one SRV question is asked next: the same question object, its last answer, whether its answer needs TCP. */
type Kept = { question: Question; known: KnownReply | undefined; overTcp: boolean };

/**
 * One question at a time, asked as askQuestion does, with what decides how an SRV record is
 * asked next: its last answer (the same bytes are not decoded again; none yet, and the first
 * try goes over UDP and TCP at once) and whether its answer needs TCP. Kept for the names in
 * force only (`keep`): a CNAME to a new name each answer must not leave every name behind.
 */
export class RecordAsker {
  readonly #servers: ServerChoice;
  readonly #hooks: QuestionHooks;
  readonly #now: () => number;
  /** Per SRV name asked. */
  readonly #kept = new Map<string, Kept>();

  constructor(servers: ServerChoice, hooks: QuestionHooks, now: () => number) {
    this.#servers = servers;
    this.#hooks = hooks;
    this.#now = now;
  }

  /** Asks `name`, within `bounds` (the run's end, the agent stopping). */
  async ask(name: string, type: RecordType, bounds: Bounds = {}): Promise<Lookup> {
    if (type !== 'SRV') {
      const { reply, ns } = await askQuestion({ name, type }, this.#servers.plan(false), this.#hooks, undefined, this.#now, bounds);
      this.#servers.answered(ns);
      return { status: statusOf(reply) as Lookup['status'], name, reply };
    }
    let kept = this.#kept.get(name);
    if (kept === undefined) {
      kept = { question: keptQuestion(name, type), known: undefined, overTcp: false };
      this.#kept.set(name, kept);
    }
    const k = kept;
    // An SRV answer truncated over UDP is asked over TCP at once from then on, even if this question fails.
    const hooks: QuestionHooks = {
      ...this.#hooks,
      truncated: (ns) => {
        k.overTcp = true;
        this.#hooks.truncated(ns);
      },
    };
    const { reply, transport, raw, truncated, ns } = await askQuestion(
      k.question,
      this.#servers.plan(k.overTcp, true, k.known !== undefined),
      hooks,
      k.known,
      this.#now,
      bounds,
    );
    // The SRV answer is the one asked every pass: keep it, and go to TCP at once while it needs TCP.
    if (k.known?.reply !== reply) k.known = { raw: Buffer.from(raw), reply, signature: replySignature(raw) };
    // An answer larger than a datagram, truncated over UDP or had whole over TCP (a first question asks both): TCP at once.
    if (truncated || (transport === 'tcp' && raw.length > EDNS_UDP_SIZE)) k.overTcp = true;
    else if (transport === 'tcp') k.overTcp = false;
    this.#servers.answered(ns);
    return { status: statusOf(reply) as Lookup['status'], name, reply };
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
