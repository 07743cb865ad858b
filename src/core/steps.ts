import type { Addition } from './dynamic.ts';
import type { AdminState, Change } from './types.ts';

/**
 * What the agent does to HAProxy, as data: one step changes one server of one backend
 * (HAProxy's names). The planner makes them, src/core/commands.ts renders each to the one
 * command that does it, the HAProxy adapter frames and judges them by kind, and a dry run
 * prints them. Nothing reads a step back from its text.
 */
export type Step =
  | Readonly<{ kind: 'set-addr'; backend: string; server: string; address: string; port: number }>
  | Readonly<{ kind: 'set-weight'; backend: string; server: string; weight: number }>
  | Readonly<{ kind: 'set-state'; backend: string; server: string; state: AdminState }>
  | Readonly<{
      kind: 'add-server';
      backend: string;
      server: string;
      address: string;
      port: number;
      /** The agent's id for it (addedServerId): how it knows the server as its own. */
      id: number;
      /** A `backup` server: its endpoint is of a less preferred SRV priority. */
      backup: boolean;
      /** Added with `check`, as the backend's slots are checked (HAProxy 2.5+). */
      check: boolean;
    }>
  | Readonly<{ kind: 'enable-health'; backend: string; server: string }>
  | Readonly<{ kind: 'del-server'; backend: string; server: string }>;

export type StepKind = Step['kind'];

/** Whether HAProxy may run the step twice with the same outcome (a retry after a connection cut mid-reply). */
export const isRepeatable = (step: Step): boolean => step.kind !== 'add-server' && step.kind !== 'del-server';

/**
 * The steps one slot change needs, in the order HAProxy must see them: address before
 * weight before state, so a slot never turns ready on its old address. Only what differs,
 * unless the change is forced (after a reload).
 */
export function changeSteps(backend: string, change: Change): Step[] {
  const { server, from, to, force } = change;
  const out: Step[] = [];
  if (force || from.address !== to.address || from.port !== to.port)
    out.push({ kind: 'set-addr', backend, server, address: to.address, port: to.port });
  if (to.weight !== null && (force || from.weight !== to.weight)) out.push({ kind: 'set-weight', backend, server, weight: to.weight });
  if (force || from.admin !== to.admin) out.push({ kind: 'set-state', backend, server, state: to.admin });
  return out;
}

/**
 * A server added at run time, then what puts it in service (it starts in maintenance): its
 * weight, its health check when the slots are checked (`checked`), then `ready`.
 */
export function additionSteps(backend: string, a: Addition, checked: boolean): Step[] {
  const server = a.name;
  const { address, port } = a.endpoint;
  return [
    { kind: 'add-server', backend, server, address, port, id: a.id, backup: a.backup, check: checked },
    ...(a.weight === null ? [] : [{ kind: 'set-weight', backend, server, weight: a.weight } as const]),
    ...(checked ? [{ kind: 'enable-health', backend, server } as const] : []),
    { kind: 'set-state', backend, server, state: 'ready' },
  ];
}
