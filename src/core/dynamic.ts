import { renderSetWeight, UnsafeCommandError, isSafeName } from './commands.ts';
import { isIPAddress } from './ip.ts';
import { endpointKey, type Endpoint, type Slot } from './types.ts';

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

export type Addition = Readonly<{ name: string; endpoint: Endpoint; weight: number | null }>;

export type DynamicPlan = Readonly<{ additions: readonly Addition[]; deletions: readonly string[] }>;

/**
 * Which servers to add and which to delete, from the plan of the slots: the endpoints the
 * slots could not hold get new servers (the lowest free numbers), and an added server in
 * maintenance (its pod left and its drain ended) is deleted.
 */
export function planDynamic(
  o: Readonly<{ prefix: string; servers: readonly Slot[]; unplaced: readonly Endpoint[]; weightOf: (e: Endpoint) => number | null }>,
): DynamicPlan {
  const deletions = o.servers.filter((s) => isAdded(s.name, o.prefix) && s.admin === 'maint').map((s) => s.name);
  const taken = new Set(o.servers.map((s) => s.name));
  const stem = addedStem(o.prefix);
  const additions: Addition[] = [];
  let n = 1;
  for (const endpoint of o.unplaced) {
    while (taken.has(`${stem}${String(n)}`)) n++;
    const name = `${stem}${String(n++)}`;
    additions.push({ name, endpoint, weight: o.weightOf(endpoint) });
  }
  return { additions, deletions };
}

/**
 * `add server` and what puts the new server in service (it starts in maintenance): its
 * weight, `enable health` when the slots are checked, then `state ready`.
 */
export function renderAddition(backend: string, a: Addition, checked: boolean): string[] {
  if (!isSafeName(backend) || !isSafeName(a.name))
    throw new UnsafeCommandError(`refusing server name ${JSON.stringify(`${backend}/${a.name}`)}`);
  const { address, port } = a.endpoint;
  if (!isIPAddress(address)) throw new UnsafeCommandError(`refusing address ${JSON.stringify(address)}: expected an IPv4 or IPv6 literal`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UnsafeCommandError(`refusing port ${String(port)}: expected 1..65535`);
  const target = `${backend}/${a.name}`;
  return [
    `add server ${target} ${endpointKey({ address, port })}${checked ? ' check' : ''}`,
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
