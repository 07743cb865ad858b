import { Superseded } from './answer.ts';

type Turn = { begun: number; taken: number; done: Promise<void> };

/**
 * Resolves of one record that overlap (a slow server's question in flight when the zone
 * changes, and a newer one asked): each is numbered as it begins, their answers are made one
 * at a time in the order their replies came, and one whose reply came after a newer
 * resolve's is Superseded. The newest answer wins; an older one never comes after it.
 */
export class Turns {
  readonly #byRecord = new Map<string, Turn>();

  /** A resolve of `record` begins: its number among the record's resolves. */
  begin(record: string): number {
    let turn = this.#byRecord.get(record);
    if (turn === undefined) this.#byRecord.set(record, (turn = { begun: 0, taken: 0, done: Promise.resolve() }));
    return ++turn.begun;
  }

  /**
   * Resolve `n` of `record` has its reply: waits until the answers of the replies before it
   * are made, and throws Superseded when a newer resolve's reply came first (before or
   * meanwhile). Returns the release that lets the next one go: call it once this answer is made.
   */
  async take(record: string, n: number): Promise<() => void> {
    const turn = this.#byRecord.get(record);
    if (turn === undefined) return () => undefined;
    if (turn.taken > n) throw new Superseded(record);
    turn.taken = n;
    const before = turn.done;
    let release = (): void => undefined;
    turn.done = new Promise<void>((r) => {
      release = r;
    });
    await before;
    if (turn.taken !== n) {
      release();
      throw new Superseded(record);
    }
    return release;
  }
}
