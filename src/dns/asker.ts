import type { RecordType } from 'dns-packet';
import { EDNS_UDP_SIZE, replySignature, type KnownReply, type Reply } from './message.ts';
import { askQuestion, type QuestionHooks } from './question.ts';
import { statusOf } from './records.ts';
import type { ServerChoice } from './servers.ts';

/** An answered question: its status (a failure is a DnsError), the name asked, the reply. */
export type Lookup = Readonly<{ status: 'ok' | 'nxdomain' | 'nodata'; name: string; reply: Reply }>;

/**
 * One question at a time, asked as askQuestion does, with what decides how an SRV record is
 * asked next: its last answer (the same bytes are not decoded again; none yet, and the first
 * try goes over UDP and TCP at once) and whether its answer needs TCP.
 */
export class RecordAsker {
  readonly #servers: ServerChoice;
  readonly #hooks: QuestionHooks;
  readonly #now: () => number;
  /** The last answer to each SRV question. */
  readonly #known = new Map<string, KnownReply>();
  /** SRV questions whose answer does not fit a datagram: asked over TCP at once. */
  readonly #overTcp = new Set<string>();

  constructor(servers: ServerChoice, hooks: QuestionHooks, now: () => number) {
    this.#servers = servers;
    this.#hooks = hooks;
    this.#now = now;
  }

  async ask(name: string, type: RecordType): Promise<Lookup> {
    const key = `${type} ${name}`;
    const srv = type === 'SRV';
    // An SRV answer truncated over UDP is asked over TCP at once from then on, even if this question fails.
    const hooks: QuestionHooks = srv
      ? {
          ...this.#hooks,
          truncated: (ns) => {
            this.#overTcp.add(key);
            this.#hooks.truncated(ns);
          },
        }
      : this.#hooks;
    const { reply, transport, raw, truncated, ns } = await askQuestion(
      { name, type },
      this.#servers.plan(this.#overTcp.has(key), srv, this.#known.has(key)),
      hooks,
      this.#known.get(key),
      this.#now,
    );
    if (srv) {
      // The SRV answer is the one asked every pass: keep it, and go to TCP at once while it needs TCP.
      if (this.#known.get(key)?.reply !== reply) this.#known.set(key, { raw: Buffer.from(raw), reply, signature: replySignature(raw) });
      // An answer larger than a datagram, truncated over UDP or had whole over TCP (a first question asks both): TCP at once.
      if (truncated || (transport === 'tcp' && raw.length > EDNS_UDP_SIZE)) this.#overTcp.add(key);
      else if (transport === 'tcp') this.#overTcp.delete(key);
    }
    this.#servers.answered(ns);
    return { status: statusOf(reply) as Lookup['status'], name, reply };
  }
}
