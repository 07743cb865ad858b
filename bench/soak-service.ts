/**
 * The headless Service of the soak: which pods are in DNS, under which target names, and
 * which pods run. A pod that leaves DNS keeps serving for `stopAfterMs` (a preStop sleep),
 * then stops, unless it came back into DNS meanwhile.
 */
import { podName, SERVICE, type Pod, type TestBind } from '../test/support/bind.ts';
import type { PodsThread } from './soak-pods.ts';

export const keyOf = (p: Pod): string => `${p.address}:${String(p.port)}`;

export class Service {
  readonly #bind: TestBind;
  readonly #pods: PodsThread;
  readonly #pool: readonly Pod[];
  readonly #stopAfterMs: number;
  /** When each pod last left DNS (performance.now()). */
  readonly #leftAt = new Map<string, number>();
  readonly #running = new Set<string>();
  /** Pending stops of pods that left DNS. */
  readonly #stops = new Set<Promise<void>>();
  /** A/AAAA names published now, deleted when they leave the answer. */
  #names = new Set<string>();
  #generation = 0;
  inDns: readonly Pod[] = [];
  /** A stop that failed: the soak itself broke. */
  failure: Error | null = null;

  constructor(bind: TestBind, pods: PodsThread, pool: readonly Pod[], stopAfterMs: number) {
    this.#bind = bind;
    this.#pods = pods;
    this.#pool = pool;
    this.#stopAfterMs = stopAfterMs;
  }

  /** When `pod` (address:port) last left DNS; -1 if it never did. */
  leftDnsAt(pod: string): number {
    return this.#leftAt.get(pod) ?? -1;
  }

  /** How many renames of every target so far (the name churn). */
  get generation(): number {
    return this.#generation;
  }

  /** `count` pods of the pool that do not run, those out of DNS the longest first: new pods. */
  fresh(count: number): Pod[] {
    return this.#pool
      .filter((p) => !this.#running.has(keyOf(p)))
      .sort((a, b) => this.leftDnsAt(keyOf(a)) - this.leftDnsAt(keyOf(b)))
      .slice(0, count);
  }

  /** Starts the pods of `next` that do not run, publishes `next`, and stops the pods that left after their preStop sleep. */
  async scaleTo(next: readonly Pod[]): Promise<void> {
    const added = next.filter((p) => !this.#running.has(keyOf(p)));
    await this.#pods.start(added);
    for (const p of added) this.#running.add(keyOf(p));
    const staying = new Set(next.map(keyOf));
    const removed = this.inDns.filter((p) => !staying.has(keyOf(p)));
    await this.#publish(next);
    const leftAt = performance.now();
    for (const p of removed) this.#leftAt.set(keyOf(p), leftAt);
    this.inDns = next;
    if (removed.length > 0) this.#stopLater(removed, leftAt);
  }

  /** Every target takes a new name; the pods and their addresses stay. */
  async rename(): Promise<void> {
    this.#generation++;
    await this.#publish(this.inDns);
  }

  /** Waits for the pending stops. */
  async settle(): Promise<void> {
    await Promise.all(this.#stops);
  }

  #name(p: Pod): string {
    return this.#generation === 0 ? podName(p.address) : `g${String(this.#generation)}-${podName(p.address)}`;
  }

  /** One update message, as a Service's endpoints change under CoreDNS: the SRV set replaced, the names that left deleted. */
  async #publish(pods: readonly Pod[]): Promise<void> {
    const weight = pods.length === 0 ? 0 : Math.floor(100 / pods.length);
    const names = new Set(pods.map((p) => this.#name(p)));
    const lines = [`update delete ${SERVICE}. SRV`];
    for (const n of this.#names) if (!names.has(n)) lines.push(`update delete ${n}. A`);
    for (const p of pods) lines.push(`update add ${this.#name(p)}. 5 IN A ${p.address}`);
    for (const p of pods) lines.push(`update add ${SERVICE}. 5 IN SRV 0 ${String(weight)} ${String(p.port)} ${this.#name(p)}.`);
    await this.#bind.update(lines);
    this.#names = names;
  }

  #stopLater(removed: readonly Pod[], leftAt: number): void {
    const stop: Promise<void> = new Promise<void>((r) => setTimeout(r, this.#stopAfterMs))
      .then(async () => {
        // A pod that came back into DNS since keeps running (and one that left again waits for its own stop).
        const inDns = new Set(this.inDns.map(keyOf));
        const gone = removed.filter((p) => !inDns.has(keyOf(p)) && this.#leftAt.get(keyOf(p)) === leftAt);
        await this.#pods.stop(gone);
        for (const p of gone) this.#running.delete(keyOf(p));
      })
      .catch((err: unknown) => {
        this.failure ??= err instanceof Error ? err : new Error(String(err));
      })
      .finally(() => this.#stops.delete(stop));
    this.#stops.add(stop);
  }
}
