import type { Nameserver } from '../config/model.ts';
import { keptQuestion, normalizeName, type KnownReply, type Question, type Reply } from './message.ts';
import { askQuestion, type Bounds, type QuestionHooks, type QuestionPlan } from './question.ts';
import type { SerialReading } from './serial-trust.ts';
import type { Transport } from './transport.ts';

/**
 * The serial of the zone holding a name: an SOA question for the name itself, which an
 * authoritative server answers with the zone's SOA (in the answer at the apex, in the
 * authority section below it). BIND raises the serial with every change; CoreDNS's
 * kubernetes plugin sets it to the time of the last change it saw (to the second).
 *
 * Each question goes from a socket of its own, on a fresh random source port with a fresh
 * random ID (RFC 5452): a forged reply must guess both, not the ID alone, to bring a DNS
 * run early or hide a change (the interval stays the bound either way).
 */
export class SerialAsker {
  readonly #hooks: QuestionHooks;
  readonly #now: () => number;
  /** The last question, its reply and what it said: the same bytes (but the ID) are not decoded again, several times a second. */
  #last: { question: Question; known: KnownReply; reading: SerialReading | null } | null = null;

  /**
   * `hooks` hear of the tries that did not bring the answer (unanswered, timed out, failed)
   * and of round trips; the answer itself is the caller's to count, as what it said.
   */
  constructor(hooks: QuestionHooks, now: () => number = Date.now) {
    this.#hooks = hooks;
    this.#now = now;
  }

  /**
   * The zone's SOA as read, or null when the answer holds none; a DnsError when no answer
   * came. Asked as any question is (`plan`: a retry while the first try still listens, each
   * try from a socket and ID of its own), so that a question a busy server dropped costs a
   * retry time, not the whole wait.
   */
  async ask(
    plan: QuestionPlan,
    name: string,
    bounds: Bounds = {},
  ): Promise<{ reading: SerialReading | null; rcode: string; ns: Nameserver; transport: Transport }> {
    const last = this.#last;
    const hooks: QuestionHooks = {
      ...this.#hooks,
      query: (ns, transport, result) => {
        if (!ANSWERED.has(result)) this.#hooks.query(ns, transport, result);
      },
    };
    const same = last?.question.name === name ? last : null;
    const question = same?.question ?? keptQuestion(name, 'SOA');
    const { reply, raw, ns, transport } = await askQuestion(question, plan, hooks, same?.known, this.#now, bounds);
    if (this.#last?.known.reply !== reply || this.#last.question !== question)
      this.#last = { question, known: { raw: Buffer.from(raw), reply }, reading: readingOf(reply) };
    return { reading: this.#last.reading, rcode: reply.rcode, ns, transport };
  }
}

/** The results of a try that brought the answer (the caller counts those). */
const ANSWERED: ReadonlySet<string> = new Set(['ok', 'nodata', 'nxdomain']);

function readingOf(r: Reply): SerialReading | null {
  const soa = [...r.answers, ...(r.authorities ?? [])].find((a) => a.type === 'SOA');
  if (soa?.type !== 'SOA' || typeof soa.data.serial !== 'number') return null;
  return { serial: soa.data.serial, zone: normalizeName(soa.name), ttl: soa.ttl ?? 0, authoritative: r.authoritative === true };
}
