import { bestPriority, haproxyWeights, sortEndpoints, splitByPriority } from './desired.ts';
import { targetOf, type Plan, type WeightPolicy } from './plan.ts';
import { endpointKey, type Change, type Endpoint, type Slot } from './types.ts';

/**
 * Servers added at run time (`--dynamic-servers`, HAProxy 2.4+) when a backend's
 * endpoints outnumber its free slots: filled only when no slot is free, and deleted once
 * their pod has left and they are back in maintenance.
 *
 * HAProxy's runtime API does not say which servers were added at run time, so the agent
 * marks its own: each is added with a server id (`add server ... id <n>`, shown as srv_id
 * by `show servers state`) derived from the HAProxy process (its Pid and start time) and
 * the server's name. No configuration can know that id in advance, and an agent restarted
 * beside the same process derives it again: it knows its own servers without keeping
 * anything. A reload makes a new process, whose servers are all configured ones. A server
 * of any other id, whatever its name, is a configured one or someone else's: never deleted.
 */

/** The name stem of added servers: the managed prefix, or "srv" when every server is managed. */
export const addedStem = (prefix: string): string => `${prefix === '' ? 'srv' : prefix}-a`;

/** Whether a name has the form the agent gives the servers it adds: `<stem><N>`. */
export function hasAddedName(name: string, prefix: string): boolean {
  const stem = addedStem(prefix);
  return name.startsWith(stem) && /^[1-9]\d*$/.test(name.slice(stem.length));
}

/** The HAProxy process (`show info` Pid and Start_time_sec) and the backend an added server belongs to. */
export type AddedOwner = Readonly<{ pid: number; startTimeSec: number | null; backend: string }>;

/** The lowest id an added server gets: configured servers are numbered from 1 up, one by one. */
export const ADDED_ID_MIN = 2 ** 30;

/**
 * The server id the agent gives the server `name` it adds to `owner`'s backend: 32-bit
 * FNV-1a of the process, backend and name, in [2^30, 2^31) (positive for every HAProxy,
 * which keeps ids in an int, and far above the ids a configuration numbers from 1).
 */
export function addedServerId(owner: AddedOwner, name: string): number {
  const text = `${String(owner.pid)} ${String(owner.startTimeSec ?? 0)} ${owner.backend}/${name}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return ADDED_ID_MIN + ((h >>> 0) % ADDED_ID_MIN);
}

/** Whether the agent added this server to this process: its name has the added form and its id is the one derived for it. */
export function isOwnAdded(server: Readonly<{ name: string; id: number }>, owner: AddedOwner, prefix: string): boolean {
  return hasAddedName(server.name, prefix) && server.id === addedServerId(owner, server.name);
}

/** The names and ids every server of a backend has (managed or not): an added server takes neither. */
export type ServersTaken = Readonly<{ names: ReadonlySet<string>; ids: ReadonlySet<number> }>;

export type Addition = Readonly<{
  name: string;
  /** Its server id (addedServerId): how the agent knows it as its own. */
  id: number;
  endpoint: Endpoint;
  weight: number | null;
  /** Added as a `backup` server: the endpoint is of a less preferred SRV priority. */
  backup: boolean;
}>;

export type DynamicPlan = Readonly<{
  additions: readonly Addition[];
  deletions: readonly string[];
  /** Endpoints that got no server: the backend's servers, slots and added ones, reached the cap. */
  capped: number;
}>;

/**
 * Which servers to add and which to delete, from the plan of the slots. A server the agent
 * added that is in maintenance (its pod left and its drain ended) is deleted; no other
 * server ever is. Each endpoint the slots could not hold gets a new server (the lowest
 * numbers whose name and id no server of the backend has) in the pool its SRV priority
 * belongs to: the most preferred priority as an active server, any other as a `backup` one
 * (also when the backend declares no backup slots: the flag's purpose is that every
 * endpoint gets a server). Never for an endpoint a server of the backend serves (ready or
 * drain) once the plan is applied: it is added once that server left it. Never beyond
 * `maxServers` servers in all, slots included.
 */
export function planDynamic(
  o: Readonly<{
    prefix: string;
    owner: AddedOwner;
    /** Every server of the backend, managed or not. */
    taken: ServersTaken;
    /** Every managed server of the backend as read, the ones the agent added included (`added`). */
    servers: readonly Slot[];
    /** The plan of the servers that stay (every one but the added servers in maintenance). */
    plan: Pick<Plan, 'changes' | 'unplaced' | 'unused'>;
    /** The endpoints DNS wants: the most preferred priority among them is the active pool's. */
    endpoints: readonly Endpoint[];
    /** --max-endpoints: the most servers, slots and added ones, the backend may have. */
    maxServers: number;
    weights: WeightPolicy;
  }>,
): DynamicPlan {
  const deletions = o.servers.filter((s) => s.added && s.admin === 'maint').map((s) => s.name);
  const served = servedAfter(o.servers, o.plan.changes);
  const best = bestPriority(o.endpoints);
  const { primary, secondary } = splitByPriority(o.endpoints);
  const weightsOf = { active: haproxyWeights(primary), backup: haproxyWeights(secondary) };
  // Active endpoints first: when the cap leaves room for some only, the preferred ones get it.
  const wanted: { endpoint: Endpoint; backup: boolean }[] = [];
  for (const endpoint of o.plan.unplaced) if (endpoint.priority === best) wanted.push({ endpoint, backup: false });
  for (const endpoint of o.plan.unplaced) if (endpoint.priority !== best) wanted.push({ endpoint, backup: true });
  for (const endpoint of sortEndpoints(o.plan.unused)) wanted.push({ endpoint, backup: true });

  const names = new Set(o.taken.names);
  const ids = new Set(o.taken.ids);
  const stem = addedStem(o.prefix);
  const room = Math.max(0, o.maxServers - (o.servers.length - deletions.length));
  const additions: Addition[] = [];
  let capped = 0;
  let n = 1;
  for (const { endpoint, backup } of wanted) {
    const key = endpointKey(endpoint);
    if (served.has(key)) continue;
    if (additions.length >= room) {
      capped++;
      continue;
    }
    served.add(key);
    // A name or an id some server has is skipped (a deleted server's name is taken until the next pass reads it gone).
    while (names.has(`${stem}${String(n)}`) || ids.has(addedServerId(o.owner, `${stem}${String(n)}`))) n++;
    const name = `${stem}${String(n++)}`;
    const id = addedServerId(o.owner, name);
    names.add(name);
    ids.add(id);
    const weight = o.weights === 'srv' ? ((backup ? weightsOf.backup : weightsOf.active).get(key) ?? null) : null;
    additions.push({ name, id, endpoint, weight, backup });
  }
  return { additions, deletions, capped };
}

/** The address:port every server serves (ready or drain) once the plan's changes are applied. */
function servedAfter(servers: readonly Slot[], changes: readonly Change[]): Set<string> {
  const to = new Map(changes.map((c) => [c.server, c.to]));
  const out = new Set<string>();
  for (const s of servers) {
    const target = to.get(s.name) ?? targetOf(s);
    if (target.admin !== 'maint') out.add(endpointKey(target));
  }
  return out;
}
