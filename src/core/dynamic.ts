import { renderSetWeight, UnsafeCommandError, isSafeName } from './commands.ts';
import { isIPAddress } from './ip.ts';
import { bestPriority, haproxyWeights, sortEndpoints, splitByPriority } from './desired.ts';
import { targetOf, type Plan, type WeightPolicy } from './plan.ts';
import { endpointKey, type Change, type Endpoint, type Slot } from './types.ts';

/**
 * Servers added at run time (`--dynamic-servers`, HAProxy 2.4+) when a backend's
 * endpoints outnumber its free slots. They are named after the managed prefix, so they
 * are managed like slots (`<prefix>-a<N>`, which a server-template never makes), filled
 * only when no slot is free, and deleted once their pod has left and they are back in
 * maintenance.
 */

/** The name stem of added servers: the managed prefix, or "srv" when every server is managed. */
export const addedStem = (prefix: string): string => `${prefix === '' ? 'srv' : prefix}-a`;

export function isAdded(name: string, prefix: string): boolean {
  const stem = addedStem(prefix);
  return name.startsWith(stem) && /^\d+$/.test(name.slice(stem.length));
}

export type Addition = Readonly<{
  name: string;
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
 * Which servers to add and which to delete, from the plan of the slots. An added server in
 * maintenance (its pod left and its drain ended) is deleted. Each endpoint the slots could
 * not hold gets a new server (the lowest free numbers) in the pool its SRV priority belongs
 * to: the most preferred priority as an active server, any other as a `backup` one (also
 * when the backend declares no backup slots: the flag's purpose is that every endpoint gets
 * a server). Never for an endpoint a server of the backend serves (ready or drain) once the
 * plan is applied: it is added once that server left it. Never beyond `maxServers` servers
 * in all, slots included.
 */
export function planDynamic(
  o: Readonly<{
    prefix: string;
    /** Every managed server of the backend as read, added ones included. */
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
  const deletions = o.servers.filter((s) => isAdded(s.name, o.prefix) && s.admin === 'maint').map((s) => s.name);
  const served = servedAfter(o.servers, o.plan.changes);
  const best = bestPriority(o.endpoints);
  const { primary, secondary } = splitByPriority(o.endpoints);
  const weightsOf = { active: haproxyWeights(primary), backup: haproxyWeights(secondary) };
  // Active endpoints first: when the cap leaves room for some only, the preferred ones get it.
  const wanted: { endpoint: Endpoint; backup: boolean }[] = [];
  for (const endpoint of o.plan.unplaced) if (endpoint.priority === best) wanted.push({ endpoint, backup: false });
  for (const endpoint of o.plan.unplaced) if (endpoint.priority !== best) wanted.push({ endpoint, backup: true });
  for (const endpoint of sortEndpoints(o.plan.unused)) wanted.push({ endpoint, backup: true });

  const taken = new Set(o.servers.map((s) => s.name));
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
    while (taken.has(`${stem}${String(n)}`)) n++;
    const name = `${stem}${String(n++)}`;
    const weight = o.weights === 'srv' ? ((backup ? weightsOf.backup : weightsOf.active).get(key) ?? null) : null;
    additions.push({ name, endpoint, weight, backup });
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

/**
 * `add server` (with `backup` for a less preferred priority: taken by dynamic servers from
 * 2.4 on) and what puts the new server in service (it starts in maintenance): its weight,
 * `enable health` when the slots are checked, then `state ready`.
 */
export function renderAddition(backend: string, a: Addition, checked: boolean): string[] {
  if (!isSafeName(backend) || !isSafeName(a.name))
    throw new UnsafeCommandError(`refusing server name ${JSON.stringify(`${backend}/${a.name}`)}`);
  const { address, port } = a.endpoint;
  if (!isIPAddress(address)) throw new UnsafeCommandError(`refusing address ${JSON.stringify(address)}: expected an IPv4 or IPv6 literal`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UnsafeCommandError(`refusing port ${String(port)}: expected 1..65535`);
  const target = `${backend}/${a.name}`;
  return [
    `add server ${target} ${endpointKey({ address, port })}${a.backup ? ' backup' : ''}${checked ? ' check' : ''}`,
    ...(a.weight === null ? [] : [renderSetWeight(backend, a.name, a.weight)]),
    ...(checked ? [`enable health ${target}`] : []),
    `set server ${target} state ready`,
  ];
}

export function renderDeletion(backend: string, name: string): string {
  if (!isSafeName(backend) || !isSafeName(name))
    throw new UnsafeCommandError(`refusing server name ${JSON.stringify(`${backend}/${name}`)}`);
  return `del server ${backend}/${name}`;
}
