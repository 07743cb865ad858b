import { DnsError } from '../errors.ts';
import type { DnsObserver } from './answer.ts';
import { keptQuestion, type KnownReply, type Question } from './message.ts';
import { askQuestion, type Bounds } from './question.ts';
import { soaReading } from './records.ts';
import type { SerialReading } from './serial-trust.ts';
import type { RetryPolicy } from './retry-policy.ts';

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
  readonly #policy: RetryPolicy;
  readonly #observer: DnsObserver;
  readonly #now: () => number;
  /** The last question, its reply and what it said: the same bytes (but the ID) are not decoded again, several times a second. */
  #last: { question: Question; known: KnownReply; reading: SerialReading | null } | null = null;

  /** Each try is counted in `observer` as it ends; its round trips go to `policy`. */
  constructor(policy: RetryPolicy, observer: DnsObserver, now: () => number = Date.now) {
    this.#policy = policy;
    this.#observer = observer;
    this.#now = now;
  }

  /**
   * The zone's SOA as read, or null when none came (no answer, or an answer holding none).
   * Asked of the nameserver that answered last, as any question is (RetryPolicy.serialPlan:
   * a retry while the first try still listens, each try from a socket and ID of its own), so
   * that a question a busy server dropped costs a retry time, not the whole wait; for
   * `deadlineMs` at most, nor past `bounds`.
   */
  async ask(name: string, deadlineMs: number, bounds: Bounds = {}): Promise<SerialReading | null> {
    const plan = this.#policy.serialPlan(deadlineMs);
    if (plan === null) return null;
    const last = this.#last?.question.name === name ? this.#last : null;
    const question = last?.question ?? keptQuestion(name, 'SOA');
    const asked = await askQuestion(question, plan, this.#observer, last?.known, this.#now, bounds);
    this.#policy.learn(asked.roundTrips);
    const answer = asked.answer;
    if (answer instanceof DnsError) return null; // each try's failure is counted as it ends
    const kept =
      answer.same && last !== null
        ? last
        : { question, known: { raw: Buffer.from(answer.raw), reply: answer.reply }, reading: soaReading(answer.reply) };
    this.#last = kept;
    return kept.reading;
  }
}
