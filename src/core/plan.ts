import { haproxyWeights, sortEndpoints, splitByPriority } from './desired.ts';
import { endpointKey, type Change, type ChangeReason, type Endpoint, type Slot, type SlotTarget } from './types.ts';

export type WeightPolicy = 'srv' | 'ignore';

/** What the agent remembers between passes; HAProxy's state stays the source of truth. */
export type SlotMemory = Readonly<{
  /** Slot name -> when the agent put it in drain (ms). */
  drainingSince: ReadonlyMap<string, number>;
  /** Slot name -> the endpoint key it last served, so an endpoint comes back to its slot. */
  lastHeld: ReadonlyMap<string, string>;
}>;

export const emptyMemory: SlotMemory = { drainingSince: new Map(), lastHeld: new Map() };

export type PlanInput = Readonly<{
  /** The managed slots of one backend (one HAProxy process), any order. */
  slots: readonly Slot[];
  /** The endpoints DNS wants, normalized (see normalizeEndpoints). */
  endpoints: readonly Endpoint[];
  now: number;
  /** How long a removed endpoint keeps its sticky clients before maintenance; 0: at once. */
  drainMs: number;
  weights: WeightPolicy;
  memory: SlotMemory;
  /** HAProxy restarted or reloaded: send every field of every kept slot again. */
  resync: boolean;
  /**
   * How many endpoints may get a server of their own (--dynamic-servers: the room left
   * under --max-endpoints) before a drain is cut short for one; 0 when none may be added.
   */
  addable?: number;
}>;

export type Plan = Readonly<{
  /** In slot order (srv_id), so the same inputs always give the same command script. */
  changes: readonly Change[];
  /** Wanted endpoints that found no slot (exhaustion, or left to be added: `addable`), in placement order. */
  unplaced: readonly Endpoint[];
  /** Endpoints of a less preferred SRV priority, with no backup slots to go to. */
  unused: readonly Endpoint[];
  /** Draining slots cut short to make room for a new endpoint. */
  drainsCut: readonly string[];
  /** Slot name -> endpoint it serves once the plan is applied. */
  assignment: ReadonlyMap<string, Endpoint>;
  memory: SlotMemory;
}>;

type Decision = { target: SlotTarget; reason: ChangeReason; endpoint: Endpoint | null };

/**
 * Maps the wanted endpoints onto a backend's slots. Decision table, per slot:
 *
 *   slot now                         | endpoint in DNS?        | decision
 *   ready/drain serving E            | yes, first slot with E  | keep (drain -> ready, weight if the ratio moved)
 *   ready/drain serving E            | yes, E already kept     | maint (duplicate)
 *   ready serving E                  | no                      | drain (or maint when drainMs is 0)
 *   drain serving E                  | no                      | maint once drainMs passed or its check is down
 *   maint                            | -                       | free
 *
 * New endpoints (sorted by priority, weight, address) take free slots: first one that
 * holds or last held the same address:port, else the lowest srv_id. When none is free, the
 * next `addable` endpoints are left to be added as servers of their own (a drain runs its
 * course while there is room for a server), and only past them does an endpoint take the
 * longest-draining slot. What is left is `unplaced`: the same endpoints every pass.
 * Endpoints of the lowest SRV priority fill the active slots; the others fill `backup`
 * slots when the backend has some, and are `unused` otherwise.
 */
export function planBackend(input: PlanInput): Plan {
  const active = input.slots.filter((s) => !s.backup);
  const backup = input.slots.filter((s) => s.backup);
  const { primary, secondary } = splitByPriority(input.endpoints);
  // The room to add servers goes to the preferred priority first, as planDynamic adds them.
  const pools = [planPool(active, primary, input, input.addable ?? 0)];
  if (backup.length > 0) pools.push(planPool(backup, secondary, input, (input.addable ?? 0) - (pools[0]?.toAdd ?? 0)));

  const decisions = new Map<string, Decision>();
  const assignment = new Map<string, Endpoint>();
  const drainingSince = new Map<string, number>();
  const lastHeld = new Map(input.memory.lastHeld);
  for (const pool of pools) {
    for (const [name, d] of pool.decisions) decisions.set(name, d);
    for (const [name, since] of pool.drainingSince) drainingSince.set(name, since);
  }
  // An endpoint that moved between the active and backup pools is served by its new slot:
  // the old one must not keep draining it (two slots, one address, one cookie).
  const live = new Set(
    [...decisions.values()].filter((d) => d.target.admin === 'ready' && d.endpoint !== null).map((d) => endpointKey(d.target)),
  );
  for (const slot of input.slots) {
    const final = decisions.get(slot.name)?.target ?? targetOf(slot);
    if (final.admin === 'drain' && live.has(endpointKey(final))) {
      decisions.set(slot.name, { target: { ...final, weight: null, admin: 'maint' }, reason: 'duplicate of another slot', endpoint: null });
      drainingSince.delete(slot.name);
    }
  }
  for (const [name, d] of decisions) {
    if (d.endpoint !== null && d.target.admin === 'ready') {
      assignment.set(name, d.endpoint);
      lastHeld.set(name, endpointKey(d.endpoint));
    }
  }

  const changes: Change[] = [];
  for (const slot of sortSlots(input.slots)) {
    const d = decisions.get(slot.name);
    if (d === undefined) continue;
    const from = targetOf(slot);
    // After a reload every kept or filled slot is sent in full; a slot being emptied is not.
    const force = input.resync && d.endpoint !== null;
    if (!force && sameTarget(from, d.target)) continue;
    changes.push({ server: slot.name, reason: d.reason, from, to: d.target, force, endpoint: d.endpoint });
  }
  return {
    changes,
    unplaced: pools.flatMap((p) => p.unplaced),
    unused: backup.length > 0 ? [] : secondary,
    drainsCut: pools.flatMap((p) => p.drainsCut),
    assignment,
    memory: { drainingSince, lastHeld },
  };
}

type PoolPlan = {
  decisions: Map<string, Decision>;
  drainingSince: Map<string, number>;
  unplaced: Endpoint[];
  drainsCut: string[];
  /** How many of `unplaced` are left to be added rather than cut a drain short. */
  toAdd: number;
};

function planPool(slots: readonly Slot[], unsorted: readonly Endpoint[], input: PlanInput, addable: number): PoolPlan {
  const wanted = sortEndpoints(unsorted);
  const weightOf = haproxyWeights(wanted);
  const weight = (e: Endpoint): number | null => (input.weights === 'srv' ? (weightOf.get(endpointKey(e)) ?? null) : null);
  const wantedByKey = new Map(wanted.map((e) => [endpointKey(e), e]));
  const decisions = new Map<string, Decision>();
  const drainingSince = new Map<string, number>();
  const kept = new Set<string>();
  const free: Slot[] = [];
  const draining: { slot: Slot; since: number }[] = [];

  const release = (slot: Slot, reason: ChangeReason): void => {
    decisions.set(slot.name, { target: { ...targetOf(slot), weight: null, admin: 'maint' }, reason, endpoint: null });
    free.push(slot);
  };

  for (const slot of sortSlots(slots)) {
    if (slot.admin === 'maint') {
      free.push(slot);
      continue;
    }
    const key = endpointKey(slot);
    const e = wantedByKey.get(key);
    if (e !== undefined && !kept.has(key)) {
      kept.add(key);
      const reason: ChangeReason = input.resync
        ? 'resync after HAProxy reload'
        : slot.admin === 'drain'
          ? 'endpoint back in DNS'
          : 'weight changed';
      const target: SlotTarget = { address: slot.address, port: slot.port, weight: weight(e), admin: 'ready' };
      decisions.set(slot.name, { target, reason, endpoint: e });
    } else if (e !== undefined) {
      release(slot, 'duplicate of another slot');
    } else if (input.resync && input.memory.lastHeld.get(slot.name) !== key) {
      // After a reload a slot can come back "ready" on its placeholder address (a
      // server-state-file restores an IP-literal slot's port and state, not its address):
      // never drain that. A slot declared with a name comes back on the pod the agent left
      // it on: its drain runs on, and one whose pod left DNS meanwhile is drained as ever.
      release(slot, 'not a known endpoint after HAProxy reload');
    } else if (slot.admin === 'ready') {
      if (input.drainMs > 0) {
        decisions.set(slot.name, {
          target: { ...targetOf(slot), weight: null, admin: 'drain' },
          reason: 'endpoint left DNS',
          endpoint: null,
        });
        drainingSince.set(slot.name, input.now);
        draining.push({ slot, since: input.now });
      } else {
        release(slot, 'endpoint left DNS');
      }
    } else {
      // Draining: a drain the agent did not see start (it restarted) starts now.
      const since = input.memory.drainingSince.get(slot.name) ?? input.now;
      if (input.now - since >= input.drainMs) release(slot, 'drain period over');
      else if (slot.checked && slot.opState === 0) release(slot, 'health check down while draining');
      else {
        drainingSince.set(slot.name, since);
        draining.push({ slot, since });
      }
    }
  }

  // Which endpoints get a slot is decided by order alone; which slot each gets, by affinity.
  free.sort(bySlotOrder);
  draining.sort((a, b) => a.since - b.since || bySlotOrder(a.slot, b.slot));
  const pending = wanted.filter((e) => !kept.has(endpointKey(e)));
  // Past the free slots, endpoints are left to be added while there is room; only past those is a drain cut short.
  const beyond = Math.max(0, pending.length - free.length);
  const toAdd = Math.min(Math.max(0, addable), beyond);
  const capacity = free.length + Math.min(draining.length, beyond - toAdd);
  const placed = pending.slice(0, capacity);
  const unplaced = pending.slice(capacity);
  const taken = new Map<string, Endpoint>();
  const drainsCut = new Set<string>();
  // Indexes, so that placing a thousand endpoints stays linear.
  const byCurrent = groupBy(free, (s) => endpointKey(s));
  const byLastHeld = groupBy(free, (s) => input.memory.lastHeld.get(s.name) ?? '');
  const firstFree = (list: readonly Slot[] | undefined): Slot | undefined => list?.find((s) => !taken.has(s.name));
  const rest: Endpoint[] = [];
  for (const e of placed) {
    const key = endpointKey(e);
    const slot = firstFree(byCurrent.get(key)) ?? firstFree(byLastHeld.get(key));
    if (slot === undefined) rest.push(e);
    else taken.set(slot.name, e);
  }
  let nextFree = 0;
  let nextDraining = 0;
  for (const e of rest) {
    while (nextFree < free.length && taken.has(free[nextFree]?.name ?? '')) nextFree++;
    const slot = free[nextFree];
    if (slot !== undefined) {
      taken.set(slot.name, e);
      continue;
    }
    const d = draining[nextDraining++];
    if (d === undefined) throw new Error('planner invariant: capacity counted a slot that is not there');
    taken.set(d.slot.name, e);
    drainsCut.add(d.slot.name);
    drainingSince.delete(d.slot.name);
  }
  for (const [name, e] of taken) {
    decisions.set(name, {
      target: { address: e.address, port: e.port, weight: weight(e), admin: 'ready' },
      reason: drainsCut.has(name) ? 'slot taken for a new endpoint' : 'new endpoint',
      endpoint: e,
    });
  }
  return { decisions, drainingSince, unplaced, drainsCut: [...drainsCut], toAdd };
}

export function targetOf(slot: Slot): SlotTarget {
  return { address: slot.address, port: slot.port, weight: slot.weight, admin: slot.admin };
}

function sameTarget(from: SlotTarget, to: SlotTarget): boolean {
  return (
    from.address === to.address && from.port === to.port && from.admin === to.admin && (to.weight === null || from.weight === to.weight)
  );
}

function bySlotOrder(a: Slot, b: Slot): number {
  return a.id - b.id || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list === undefined) out.set(k, [item]);
    else list.push(item);
  }
  return out;
}

function sortSlots(slots: readonly Slot[]): Slot[] {
  return [...slots].sort(bySlotOrder);
}
