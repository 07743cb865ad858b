import { describeRecord, type BackendSpec, type RecordSpec } from '../config/model.ts';
import { refusalHint, screenEndpoints, type AddressPolicy } from '../core/address-policy.ts';
import { normalizeEndpoints } from '../core/desired.ts';
import type { Finding } from '../core/findings.ts';
import { applyHold, initialHold, type DnsOutcome, type HoldEvent, type HoldState, type HoldTimers } from '../core/hold.ts';
import { endpointKey, type Endpoint } from '../core/types.ts';
import { Superseded, type AnsweredBy, type DnsAnswer, type ResolveOptions, type SerialView } from '../dns/resolver.ts';
import { DnsError } from '../errors.ts';

export type DnsLaneDeps = Readonly<{
  spec: BackendSpec;
  /** Asks the record; the endpoints in force keep their places at the caps. */
  resolve: (spec: RecordSpec, o?: ResolveOptions) => Promise<DnsAnswer>;
  /** The zone's serial as last read and whether it is trusted, read when the page asks; null or absent: serials are not read. */
  serialView?: ((name: string) => SerialView | null) | undefined;
  /** Which nameserver last answered a record's question, and how fast, read when the page asks; absent: not known. */
  answeredBy?: ((record: RecordSpec) => AnsweredBy | null) | undefined;
  timers: HoldTimers;
  policy: AddressPolicy;
  now: () => number;
  /** The last good answer saved before a restart (--state-file): in force within --hold of its time. */
  saved?: Readonly<{ at: number; endpoints: readonly Endpoint[] }> | undefined;
}>;

/**
 * What DNS last said of a backend's record, for readiness and the status metric: `ok`
 * (endpoints), `refused` (endpoints, every one refused by the address policy), `nxdomain`,
 * `nodata`, `failing` (no usable answer: timeout, SERVFAIL, ...), or `none` (not asked yet).
 */
export type DnsStatus = 'ok' | 'refused' | 'nxdomain' | 'nodata' | 'failing' | 'none';

export const DNS_STATUSES: readonly DnsStatus[] = ['ok', 'refused', 'nxdomain', 'nodata', 'failing', 'none'];

/** A backend's DNS as /readyz shows it. */
export type DnsView = Readonly<{
  backend: string;
  status: DnsStatus;
  /** Endpoints in force; null: none yet (HAProxy left as it is). */
  endpoints: number | null;
  /** Age of the last good answer (or of the saved one), null when there never was one. */
  answerAgeMs: number | null;
  /** Since when DNS has failed or said NXDOMAIN/NODATA, and why; null while it answers. */
  failing: Readonly<{ forMs: number; kind: string }> | null;
  /** Endpoints refused in the last answer (all of them when status is `refused`). */
  refused: number;
}>;

/** What the status page shows of a backend's DNS: the view, and what the last answer held. */
export type DnsDetail = DnsView &
  Readonly<{
    spec: BackendSpec;
    record: string;
    /** The name DNS last answered for, null before any answer. */
    answeredName: string | null;
    /** The last answer's TTL (seconds), null when it had no records. */
    ttlSeconds: number | null;
    /** The endpoints in force; null: none yet. */
    inForce: readonly Endpoint[] | null;
    /** Endpoints (or SRV targets) the last answer held that were refused, and why. */
    refusals: readonly Extract<Finding, { kind: 'endpoint-refused' }>[];
    /** Endpoints the last answer left out for --max-endpoints. */
    dropped: number;
    /** The first of them it names: SRV records (`target:port`) or addresses (`address:port`). */
    overCap: readonly string[];
    /** While DNS fails: how long the endpoints in force are still held; null otherwise. */
    holdLeftMs: number | null;
    /** The zone's serial stood still while the records changed: it is not trusted to stand for them (--serial-trust). */
    serialDistrusted: boolean;
    /** Which nameserver gave the answer held, and how fast; null before any. */
    answeredBy: AnsweredBy | null;
    /** The serial of the answered name's zone and whether it is trusted; null when serials are not read (neither --watch nor --serial-trust). */
    serial: SerialView | null;
  }>;

/** How one run of a backend's DNS lane went. */
export type DnsReport = Readonly<{
  lane: 'dns';
  backend: string;
  record: string;
  findings: readonly Finding[];
  /** A hold started, expired or ended this run. */
  event: HoldEvent | null;
  /** Endpoints in force after the run; null: no answer yet. */
  endpoints: number | null;
  /** The answer's TTL (seconds), null when DNS did not answer. */
  ttlSeconds: number | null;
  /** Age of the last good answer, null when there never was one. */
  answerAgeMs: number | null;
  /** The endpoints in force changed this run. */
  changed: boolean;
  /** Endpoints the answer read this run left out for --max-endpoints; null when DNS did not answer. */
  dropped: number | null;
  /** What DNS said this run. */
  status: DnsStatus;
  durationMs: number;
}>;

/**
 * One backend's DNS, on its own schedule: ask, apply the hold timers, keep the endpoints
 * in force for the socket lanes to read. A name that never answers delays only this lane.
 * Runs may overlap (a slow server's question in flight when the zone changes): the newest
 * answer wins, and one that comes after a newer run's answer is dropped.
 */
export class DnsLane {
  readonly spec: BackendSpec;
  readonly #d: DnsLaneDeps;
  #hold: HoldState = initialHold;
  #endpoints: readonly Endpoint[] | null = null;
  /** The last answer read, and what it gave: an answer of the same generation says the same (DnsAnswer), and is not read again. */
  #read: { answer: DnsAnswer; outcome: DnsOutcome; refused: readonly Finding[]; refusedAll: boolean } | null = null;
  #status: DnsStatus = 'none';
  /** Runs begun, and the one whose answer is in force (its number): an older run's answer never comes after it. */
  #begun = 0;
  #applied = 0;
  /** Bumped whenever the endpoints in force change, with when that happened (update latency). */
  #revision = 0;
  #revisionAt = 0;
  /** Bumped whenever the last good answer's endpoints change (what --state-file keeps of the lane). */
  #goodRevision = 0;

  constructor(deps: DnsLaneDeps) {
    this.#d = deps;
    this.spec = deps.spec;
    const saved = deps.saved;
    if (saved !== undefined && deps.now() - saved.at < deps.timers.holdMs) {
      // Screened again: the policy may have changed since it was saved.
      const endpoints = screenEndpoints(normalizeEndpoints(saved.endpoints), deps.policy).kept;
      if (endpoints.length > 0) {
        this.#hold = { good: { endpoints, at: saved.at }, failing: null };
        this.#endpoints = endpoints;
        this.#revisionAt = deps.now();
      }
    }
  }

  /** The last good answer and when it came (for --state-file), null when none has. */
  get good(): HoldState['good'] {
    return this.#hold.good;
  }

  /** The endpoints in force; null before any good answer. */
  get endpoints(): readonly Endpoint[] | null {
    return this.#endpoints;
  }

  /** The endpoints in force change: `n` is bumped (the socket lanes compare it), `at` says when. */
  get revision(): Readonly<{ n: number; at: number }> {
    return { n: this.#revision, at: this.#revisionAt };
  }

  /** Bumped whenever the last good answer's endpoints change (not its time, which every good answer refreshes). */
  get goodRevision(): number {
    return this.#goodRevision;
  }

  /** The name DNS last answered for (the record's, search list applied), null before any answer: its zone's serial is watched. */
  get answeredName(): string | null {
    return this.#read?.answer.name ?? null;
  }

  /** When the last good answer came, null when none has. */
  get answeredAt(): number | null {
    return this.#hold.good?.at ?? null;
  }

  /**
   * DNS has said what it holds for this record: an answer (or a saved one in force), or
   * NXDOMAIN, NODATA or endpoints that the policy refuses, even if nothing is in force
   * yet. A time-out or SERVFAIL since start says nothing: HAProxy is not known to match.
   */
  get known(): boolean {
    return this.#hold.good !== null || this.#status === 'nxdomain' || this.#status === 'nodata' || this.#status === 'refused';
  }

  view(now: number): DnsView {
    const failing = this.#hold.failing;
    return {
      backend: this.spec.id,
      status: this.#status,
      endpoints: this.#endpoints?.length ?? null,
      answerAgeMs: this.answeredAt === null ? null : now - this.answeredAt,
      failing: failing === null ? null : { forMs: now - failing.since, kind: failing.kind },
      refused: this.#read?.refused.length ?? 0,
    };
  }

  /** The view, and what the last answer held (the status page); built only when asked. */
  detail(now: number): DnsDetail {
    const answer = this.#read?.answer ?? null;
    const failing = this.#hold.failing;
    const good = this.#hold.good;
    let holdLeftMs: number | null = null;
    if (failing !== null && !failing.expired && this.#endpoints !== null) {
      const { holdMs, holdNxMs } = this.#d.timers;
      const untilGood = (good?.at ?? failing.since) + holdMs;
      const until = failing.nxSince === null ? untilGood : Math.min(untilGood, failing.nxSince + holdNxMs);
      holdLeftMs = Math.max(0, until - now);
    }
    return {
      ...this.view(now),
      spec: this.spec,
      record: describeRecord(this.spec.record),
      answeredName: answer?.name ?? null,
      ttlSeconds: answer?.status === 'ok' ? answer.ttl : null,
      inForce: this.#endpoints,
      refusals: (this.#read?.refused ?? []).filter((f) => f.kind === 'endpoint-refused'),
      dropped: answer?.status === 'ok' ? (answer.dropped ?? 0) : 0,
      overCap: answer?.status === 'ok' ? (answer.overCap ?? []) : [],
      holdLeftMs,
      serialDistrusted: answer?.status === 'ok' && answer.serialDistrusted === true,
      answeredBy: this.#d.answeredBy?.(this.spec.record) ?? null,
      // Before any answer, the record's own name: no serial is known for it yet.
      serial: this.#d.serialView?.(answer?.name ?? describeRecord(this.spec.record)) ?? null,
    };
  }

  /**
   * One run: ask, hold, keep. null, with nothing applied and nothing said, when `signal`
   * aborted it (the agent stopping) or when a run begun after it had its answer first.
   */
  async run(signal?: AbortSignal): Promise<DnsReport | null> {
    const started = this.#d.now();
    const n = ++this.#begun;
    const record = describeRecord(this.spec.record);
    let answer: DnsAnswer | null = null;
    let outcome: DnsOutcome;
    const findings: Finding[] = [];
    const backend = this.spec.id;
    const refuse = (endpoint: string, reason: string, hint: string): void => {
      findings.push({ kind: 'endpoint-refused', backend, record, endpoint, reason, hint });
    };
    try {
      answer = await this.#d.resolve(this.spec.record, { inForce: this.#endpoints, signal });
      if (n < this.#applied) return null; // a newer run's answer is in force: this older one says nothing new
      if (this.#read?.answer.generation === answer.generation) {
        outcome = this.#read.outcome;
        for (const f of this.#read.refused) findings.push(f);
      } else {
        for (const name of answer.refusedNames ?? []) refuse(name, 'invalid-name', 'not a host name (letters, digits, "-", "_")');
        if (answer.status === 'ok') {
          // DNS is untrusted: an address outside the policy never becomes a server.
          const { kept, refused } = screenEndpoints(normalizeEndpoints(answer.endpoints), this.#d.policy);
          for (const r of refused)
            refuse(`${endpointKey(r.endpoint)} (${r.endpoint.target})`, r.reason, refusalHint(r.reason, r.endpoint.address));
          outcome = kept.length > 0 ? { status: 'ok', endpoints: kept } : { status: 'nodata' };
        } else {
          outcome = { status: answer.status };
        }
        // Every endpoint of an answer refused: DNS did answer; the policy (or the records) is what to fix.
        const refusedAll = outcome.status === 'nodata' && findings.length > 0;
        this.#read = { answer, outcome, refused: [...findings], refusedAll };
      }
      if (this.#read.refusedAll) findings.push(allRefused(backend, record, this.#read.refused.length, this.#d.policy));
    } catch (err) {
      if (err instanceof Superseded) return null;
      if (!(err instanceof DnsError)) throw err;
      // No server failed when the agent stops; and a failure older than the answer in force says nothing of it.
      if (signal?.aborted === true || n < this.#applied) return null;
      outcome = { status: 'error', kind: err.kind, message: err.message };
    }
    if (outcome.status !== 'error') {
      this.#applied = n;
    }
    const now = this.#d.now();
    const held = applyHold(this.#hold, outcome, now, this.#d.timers);
    const good = held.state.good;
    if (good !== null && !sameEndpoints(this.#hold.good?.endpoints ?? null, good.endpoints)) this.#goodRevision++;
    this.#hold = held.state;
    const changed = held.endpoints !== null && !sameEndpoints(this.#endpoints, held.endpoints);
    if (changed) {
      this.#revision++;
      this.#revisionAt = now;
    }
    this.#endpoints = held.endpoints;

    this.#status =
      outcome.status === 'error' ? 'failing' : outcome.status === 'nodata' && this.#read?.refusedAll === true ? 'refused' : outcome.status;
    if (outcome.status !== 'ok' && this.#status !== 'refused') {
      const fault = outcome.status === 'error' ? outcome.kind : outcome.status;
      const detail = outcome.status === 'error' ? outcome.message : outcome.status.toUpperCase();
      findings.push({ kind: 'dns-failing', backend, record, fault, detail });
    }
    if (answer?.status === 'ok' && answer.notes.length > 0)
      findings.push({ kind: 'dns-unusable-records', backend, record, notes: answer.notes });
    const dropped = answer === null ? null : answer.status === 'ok' ? (answer.dropped ?? 0) : 0;
    if (answer?.status === 'ok' && (answer.dropped ?? 0) > 0)
      findings.push({ kind: 'endpoints-capped', backend, record, kept: answer.endpoints.length, dropped: answer.dropped ?? 0 });
    if (this.#read?.answer.status === 'ok' && this.#read.answer.serialDistrusted === true)
      findings.push({ kind: 'serial-distrusted', backend, record });
    return {
      lane: 'dns',
      backend,
      record,
      findings,
      event: held.event,
      endpoints: this.#endpoints?.length ?? null,
      ttlSeconds: answer?.status === 'ok' ? answer.ttl : null,
      answerAgeMs: this.answeredAt === null ? null : now - this.answeredAt,
      changed,
      dropped,
      status: this.#status,
      durationMs: now - started,
    };
  }
}

/** The finding for an answer whose every endpoint was refused, naming the policy that refused them. */
function allRefused(backend: string, record: string, count: number, policy: AddressPolicy): Finding {
  const allowed = policy.allow.map((n) => n.text);
  return {
    kind: 'endpoints-all-refused',
    backend,
    record,
    count,
    policy:
      allowed.length === 0
        ? 'the built-in policy (no loopback, link-local, multicast, broadcast, unspecified or 240.0.0.0/4 address)'
        : `--allow-net ${allowed.join(',')} and the built-in policy`,
  };
}

/** The same endpoints in the same order (address, port, weight and priority each). */
function sameEndpoints(a: readonly Endpoint[] | null, b: readonly Endpoint[]): boolean {
  if (a === b) return true; // the list kept while the answer's generation stays: nothing to look at
  if (a === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const e = a[i];
    const o = b[i];
    if (
      e === undefined ||
      o === undefined ||
      e.address !== o.address ||
      e.port !== o.port ||
      e.weight !== o.weight ||
      e.priority !== o.priority
    )
      return false;
  }
  return true;
}
