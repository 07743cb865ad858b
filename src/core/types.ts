/**
 * The data the core works on. Everything here is plain, immutable data: the DNS and
 * HAProxy adapters produce it, the planner consumes it, nothing in it does I/O.
 */

/** One address a DNS answer says the backend should contain. */
export type Endpoint = Readonly<{
  /** The SRV target, or the host of a host:port record; for logs and the dry run. */
  target: string;
  address: string;
  port: number;
  /** SRV weight as published (RFC 2782, 0..65535); host:port records get 1. */
  weight: number;
  /** SRV priority; lower is preferred (RFC 2782). */
  priority: number;
  /** TTL in seconds of the records that produced it. */
  ttl: number;
}>;

/** `set server ... state` values; also what the planner wants a slot to be. */
export type AdminState = 'ready' | 'drain' | 'maint';

/** One managed server of a backend as HAProxy reports it (`show servers state`, and `bck` from `show stat`). */
export type Slot = Readonly<{
  name: string;
  /** srv_id: the order servers are declared in, which the planner fills by. */
  id: number;
  /** Current address, or '-' when the server has none (FQDN slot, `init-addr none`). */
  address: string;
  port: number;
  admin: AdminState;
  /** srv_op_state: 0 down, 1 starting, 2 running, 3 stopping. */
  opState: number;
  /** Health checks are enabled on the server. */
  checked: boolean;
  /** srv_uweight: the weight set by the user or the agent. */
  weight: number;
  /** Declared with `backup` (show stat `bck`). */
  backup: boolean;
  /** Added by the agent at run time (--dynamic-servers; see src/core/dynamic.ts), not a configured slot. */
  added: boolean;
}>;

/** What the planner wants one slot to look like at the end of the pass. */
export type SlotTarget = Readonly<{
  address: string;
  port: number;
  /** null: leave the weight alone (`--weights ignore`, or a slot going to maint). */
  weight: number | null;
  admin: AdminState;
}>;

/** Why a slot changes; logged with every change. */
export type ChangeReason =
  | 'new endpoint'
  | 'endpoint back in DNS'
  | 'weight changed'
  | 'endpoint left DNS'
  | 'drain period over'
  | 'health check down while draining'
  | 'duplicate of another slot'
  | 'slot taken for a new endpoint'
  | 'resync after HAProxy reload'
  | 'not a known endpoint after HAProxy reload'
  | 'repair drift';

/** One slot to change. The commands are derived from `from` -> `to`. */
export type Change = Readonly<{
  server: string;
  reason: ChangeReason;
  from: SlotTarget;
  to: SlotTarget;
  /** Send every field even when HAProxy already shows it (after a reload). */
  force: boolean;
  /** The endpoint the slot serves after the change, if any. */
  endpoint: Endpoint | null;
}>;

export const endpointKey = (e: Readonly<{ address: string; port: number }>): string =>
  e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
