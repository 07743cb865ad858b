/**
 * The socket lane's decisions, as pure functions over what was observed: no socket, timer,
 * clock or logger (src/agent/purity.test.ts keeps it so). Each returns data, findings
 * among it; the lane acts on it and src/agent/report.ts says it.
 */
import { canonicalIP, isIPAddress } from '../core/ip.ts';
import { FINDING_SAMPLE, type Finding } from '../core/findings.ts';
import { emptyMemory, planBackend, type Plan, type SlotMemory, type WeightPolicy } from '../core/plan.ts';
import { planDynamic, type AddedOwner, type Addition, type ServersTaken } from '../core/dynamic.ts';
import { additionSteps, changeSteps, type Step } from '../core/steps.ts';
import { endpointKey, type Endpoint, type Slot } from '../core/types.ts';
import type { BackendSpec } from '../config/model.ts';
import type { CommandResult, Snapshot } from '../haproxy/runtime.ts';
import { addedChecks, managedOf, ownerOf } from './checks.ts';

/** A backend as the socket lane sees it: its spec and the endpoints its DNS lane has in force. */
export type BackendInForce = Readonly<{
  spec: BackendSpec;
  /** null: no answer yet, leave HAProxy as it is. */
  endpoints: readonly Endpoint[] | null;
}>;

/** One backend's plan on one socket, the servers to add beyond it, and the steps that carry them out. */
export type Work = Readonly<{
  spec: BackendSpec;
  plan: Plan;
  steps: readonly Step[];
  added: readonly Addition[];
  deleted: readonly string[];
}>;

/**
 * The servers of one backend the planner works on: the managed ones (slots, and the
 * servers the agent added, `added`), the process they belong to, and the names and ids
 * every server of the backend has (which an added server must not take).
 */
export type BackendServers = Readonly<{ slots: readonly Slot[]; owner: AddedOwner; taken: ServersTaken }>;

/** The managed servers of a backend the planner can use, or the findings that keep it from planning. */
export function slotsOf(socket: string, snap: Snapshot, spec: BackendSpec): { servers: BackendServers | null; findings: Finding[] } {
  const view = snap.backends.get(spec.backend);
  if (view === null || view === undefined) {
    return { servers: null, findings: [{ kind: 'backend-missing', backend: spec.backend, socket, firstContact: false }] };
  }
  const { servers: managed, added } = managedOf(view, spec, snap.info);
  const findings: Finding[] = [];
  const noAddress = managed.filter((s) => s.address === '-').map((s) => s.name);
  if (noAddress.length > 0) {
    findings.push({
      kind: 'slots-without-address',
      backend: spec.backend,
      socket,
      servers: noAddress,
      all: noAddress.length === managed.length,
    });
  }
  const slots = managed
    .filter((s) => s.address !== '-')
    .map((s) => ({
      name: s.name,
      id: s.id,
      // Compared with endpoints in one form, whatever way this HAProxy prints it.
      address: isIPAddress(s.address) ? canonicalIP(s.address) : s.address,
      port: s.port,
      admin: s.admin,
      opState: s.opState,
      checked: s.checked,
      weight: s.weight,
      backup: view.facts.backup.has(s.name),
      added: added.has(s.name),
    }));
  const taken = { names: new Set(view.servers.map((s) => s.name)), ids: new Set(view.servers.map((s) => s.id)) };
  return { servers: { slots, owner: ownerOf(snap.info, spec), taken }, findings };
}

export type PlanOptions = Readonly<{
  now: number;
  drainMs: number;
  weights: WeightPolicy;
  memory: SlotMemory | undefined;
  resync: boolean;
  /** Add servers for what the slots cannot hold (--dynamic-servers, on an HAProxy that can). */
  dynamic: boolean;
  /** --max-endpoints: servers are added while the backend has fewer, slots and added ones together. */
  maxServers: number;
  /** Added servers may take `check` (HAProxy 2.5+; see addedChecks). */
  addedChecks: boolean;
}>;

/** Plans one backend and its steps; the placement findings come with it. */
export function planWork(
  socket: string,
  b: BackendInForce & { endpoints: readonly Endpoint[] },
  servers: BackendServers,
  o: PlanOptions,
): { work: Work; findings: Finding[] } {
  const { slots } = servers;
  // Slots are filled first: an added server back in maintenance is deleted, not filled.
  const fillable = o.dynamic ? slots.filter((s) => !(s.added && s.admin === 'maint')) : slots;
  const plan = planBackend({
    slots: fillable,
    endpoints: b.endpoints,
    now: o.now,
    drainMs: o.drainMs,
    weights: o.weights,
    memory: o.memory ?? emptyMemory,
    resync: o.resync,
    // A drain runs its course while a server may be added for the endpoint instead.
    addable: o.dynamic ? Math.max(0, o.maxServers - fillable.length) : 0,
  });
  const findings: Finding[] = [];
  const backend = b.spec.id;
  // Findings name the first FINDING_SAMPLE endpoints or servers and count them all: no log line grows with an answer.
  if (plan.unplaced.length > 0 && !o.dynamic) {
    const endpoints = plan.unplaced.slice(0, FINDING_SAMPLE).map(endpointKey);
    findings.push({ kind: 'endpoints-without-slot', backend, socket, endpoints, count: plan.unplaced.length });
  }
  if (plan.unused.length > 0 && !o.dynamic) {
    const endpoints = plan.unused.slice(0, FINDING_SAMPLE).map((e) => `${endpointKey(e)} priority ${String(e.priority)}`);
    findings.push({ kind: 'endpoints-unused', backend, socket, endpoints, count: plan.unused.length });
  }
  if (plan.drainsCut.length > 0)
    findings.push({ kind: 'drain-cut', backend, socket, servers: plan.drainsCut.slice(0, FINDING_SAMPLE), count: plan.drainsCut.length });
  const steps = plan.changes.flatMap((c) => changeSteps(b.spec.backend, c));
  if (!o.dynamic) return { work: { spec: b.spec, plan, steps, added: [], deleted: [] }, findings };
  const dynamic = planDynamic({
    prefix: b.spec.prefix,
    owner: servers.owner,
    taken: servers.taken,
    servers: slots,
    plan,
    endpoints: b.endpoints,
    maxServers: o.maxServers,
    weights: o.weights,
  });
  if (dynamic.capped > 0) findings.push({ kind: 'servers-capped', backend, socket, endpoints: dynamic.capped, max: o.maxServers });
  const checked = o.addedChecks && slots.some((s) => s.checked && !s.added);
  // Loops, not push(...): a backend's additions are as many as DNS says (up to --max-endpoints).
  for (const name of dynamic.deletions) steps.push({ kind: 'del-server', backend: b.spec.backend, server: name });
  for (const a of dynamic.additions) for (const step of additionSteps(b.spec.backend, a, checked)) steps.push(step);
  return { work: { spec: b.spec, plan, steps, added: dynamic.additions, deleted: dynamic.deletions }, findings };
}

export type BackendsOptions = Omit<PlanOptions, 'memory' | 'weights' | 'addedChecks'> &
  Readonly<{
    weights: WeightPolicy;
    /** Backends whose algorithm refuses weights: planned with weights left alone. */
    staticWeights: ReadonlySet<string>;
    memory: ReadonlyMap<string, SlotMemory>;
  }>;

/** Every backend's plan on one socket, with what the lane reports of it. */
export type BackendsPlan = {
  work: Work[];
  findings: Finding[];
  servers: Map<string, ServerCounts>;
  unplaced: Map<string, number>;
  /** Backends with nothing in force that DNS has spoken for (NXDOMAIN, NODATA, refused endpoints): left as they are, as DNS says. */
  leftAsDnsSays: string[];
};

/** Plans every backend on one socket: its slots, its plan and steps; a backend whose slots cannot be read is left out, with why. */
export function planBackends(
  socket: string,
  snap: Snapshot,
  backends: readonly (BackendInForce & Readonly<{ known: boolean }>)[],
  o: BackendsOptions,
): BackendsPlan {
  const out: BackendsPlan = { work: [], findings: [], servers: new Map(), unplaced: new Map(), leftAsDnsSays: [] };
  for (const b of backends) {
    const { servers, findings } = slotsOf(socket, snap, b.spec);
    for (const f of findings) out.findings.push(f);
    if (servers === null) continue;
    out.servers.set(b.spec.id, countSlots(servers.slots));
    if (b.endpoints === null) {
      if (b.known) out.leftAsDnsSays.push(b.spec.id);
      else out.findings.push({ kind: 'no-answer-yet', backend: b.spec.id, socket });
      continue;
    }
    const planned = planWork(socket, { spec: b.spec, endpoints: b.endpoints }, servers, {
      ...o,
      weights: o.staticWeights.has(b.spec.id) ? 'ignore' : o.weights,
      memory: o.memory.get(b.spec.id),
      addedChecks: addedChecks(snap),
    });
    for (const f of planned.findings) out.findings.push(f);
    if (planned.work.added.length > 0 && snap.info.caps.addServer?.cookies !== true) {
      out.findings.push({ kind: 'added-without-cookie', backend: b.spec.id, socket, version: snap.info.version });
    }
    out.unplaced.set(b.spec.id, planned.work.plan.unplaced.length);
    out.work.push(planned.work);
  }
  return out;
}

/** What the replies say: rejected commands, and the backends whose weights HAProxy will not take. */
export function judgeResults(
  socket: string,
  results: readonly CommandResult[],
): { findings: Finding[]; failed: Set<string>; staticWeights: Set<string> } {
  const findings: Finding[] = [];
  const failed = new Set<string>();
  const staticWeights = new Set<string>();
  for (const r of results) {
    if (r.verdict.ok) continue;
    if (r.verdict.reason === 'permission') {
      findings.push({ kind: 'not-admin', socket, command: r.text });
      continue;
    }
    findings.push({ kind: 'command-rejected', backend: r.backend, socket, command: r.text, reply: r.reply });
    failed.add(r.backend);
    if (r.verdict.reason === 'static-weights') staticWeights.add(r.backend);
  }
  return { findings, failed, staticWeights };
}

/** Changes apply asynchronously (2.9+ addr, 1.8 state at the end of the loop): which servers do not show theirs yet. */
export function notTaken(socket: string, work: readonly Work[], snap: Snapshot): Finding[] {
  const out: Finding[] = [];
  for (const w of work) {
    if (w.steps.length === 0) continue;
    const view = snap.backends.get(w.spec.backend);
    const byName = new Map((view?.servers ?? []).map((x) => [x.name, x]));
    const missed = [...w.plan.assignment]
      .filter(([server, e]) => {
        const s = byName.get(server);
        return s === undefined || s.admin !== 'ready' || endpointKey(s) !== endpointKey(e);
      })
      .map(([server]) => server);
    if (missed.length > 0) out.push({ kind: 'not-taken', backend: w.spec.id, socket, servers: missed });
  }
  return out;
}

/** Managed servers by state, for the servers gauge. */
export type ServerCounts = Record<'slot' | 'added', Record<'ready' | 'drain' | 'maint' | 'free', number>>;

/** Managed servers by kind (a configured slot, or added by the agent) and state, for the servers gauge. */
export function countSlots(slots: readonly Slot[]): ServerCounts {
  const counts: ServerCounts = { slot: { ready: 0, drain: 0, maint: 0, free: 0 }, added: { ready: 0, drain: 0, maint: 0, free: 0 } };
  for (const s of slots) counts[s.added ? 'added' : 'slot'][s.admin === 'maint' ? 'free' : s.admin]++;
  return counts;
}
