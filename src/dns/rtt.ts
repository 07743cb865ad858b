/**
 * Round-trip times per nameserver, smoothed as TCP does (RFC 6298): the retransmission
 * timeout is SRTT + max(G, 4 RTTVAR), 1 s before any sample. A stub resolver that waits a
 * fixed time and then abandons its question asks again behind the same queue on a slow
 * server; one whose wait follows the answers it gets sends a retry only when an answer is
 * late for that server. Pure: the caller times the tries and clamps the result.
 */

/** RFC 6298 2.1: the timeout before any round trip was measured. */
export const INITIAL_RTO_MS = 1_000;
/** The clock granularity G of RFC 6298: the least a variation counts for. */
const GRANULARITY_MS = 10;

type Estimate = { srtt: number; rttvar: number };

export class RttTable {
  readonly #byServer = new Map<string, Estimate>();

  /** A try to `server` answered after `ms` (each try has its own ID and socket: no ambiguity, Karn's rule holds). */
  sample(server: string, ms: number): void {
    const r = Math.max(0, ms);
    const e = this.#byServer.get(server);
    if (e === undefined) {
      this.#byServer.set(server, { srtt: r, rttvar: r / 2 });
      return;
    }
    e.rttvar = 0.75 * e.rttvar + 0.25 * Math.abs(e.srtt - r);
    e.srtt = 0.875 * e.srtt + 0.125 * r;
  }

  /** How long a try to `server` is waited for before the next goes out, unclamped. */
  rto(server: string): number {
    const e = this.#byServer.get(server);
    return e === undefined ? INITIAL_RTO_MS : e.srtt + Math.max(GRANULARITY_MS, 4 * e.rttvar);
  }

  /** Forgets the servers not in `servers` (resolv.conf read again names others). */
  keep(servers: ReadonlySet<string>): void {
    for (const server of this.#byServer.keys()) if (!servers.has(server)) this.#byServer.delete(server);
  }

  /** How many servers have samples. */
  get size(): number {
    return this.#byServer.size;
  }

  /** The smoothed round trip to `server`, null before any sample. */
  srtt(server: string): number | null {
    return this.#byServer.get(server)?.srtt ?? null;
  }
}
