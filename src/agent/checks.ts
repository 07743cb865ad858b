/**
 * What a HAProxy process is and can do, as pure functions over what was read: whether it
 * reloaded, what its configuration says at first contact, which server to probe the
 * socket's level with, whether it can add servers. No socket, timer, clock or logger
 * (src/agent/purity.test.ts keeps it so).
 */
import { dynamicCookie } from '../core/cookie.ts';
import { isOwnAdded, type AddedOwner } from '../core/dynamic.ts';
import type { Finding } from '../core/findings.ts';
import type { WeightPolicy } from '../core/plan.ts';
import { canonicalIP, isIPAddress } from '../core/ip.ts';
import { endpointKey } from '../core/types.ts';
import type { BackendSpec } from '../config/model.ts';
import type { ShowInfo } from '../haproxy/parse.ts';
import type { Step } from '../core/steps.ts';
import type { BackendView, Snapshot } from '../haproxy/runtime.ts';
import type { BackendInForce } from './decide.ts';

/** The process and backend the agent's added servers belong to (their ids are derived from it). */
export const ownerOf = (info: ShowInfo, spec: BackendSpec): AddedOwner => ({
  pid: info.pid,
  startTimeSec: info.startTimeSec,
  backend: spec.backend,
});

/**
 * Whether a configured server is a slot of the backend: the name a server-template makes
 * of the prefix, `<prefix><N>` (every server when there is no prefix). A static server
 * beside the template (`srv-a1`, `srvx` beside `server-template srv ...`) is not one.
 */
export function isSlotName(name: string, prefix: string): boolean {
  if (prefix === '') return true;
  return name.startsWith(prefix) && /^(0|[1-9]\d*)$/.test(name.slice(prefix.length));
}

/**
 * The servers of a backend the agent manages, in HAProxy's order: its slots, and the
 * servers it added itself (told by their id, see src/core/dynamic.ts). `added` names the
 * latter. Any other server, configured or added by someone else, is left alone.
 */
export function managedOf(view: BackendView, spec: BackendSpec, info: ShowInfo): { servers: BackendView['servers']; added: Set<string> } {
  const owner = ownerOf(info, spec);
  const added = new Set<string>();
  const servers = view.servers.filter((s) => {
    if (isOwnAdded(s, owner, spec.prefix)) {
      added.add(s.name);
      return true;
    }
    return isSlotName(s.name, spec.prefix);
  });
  return { servers, added };
}

/** A new Pid, a new start time or a smaller uptime: HAProxy reloaded or restarted. Returns why, or null. */
export function reloadReason(prev: ShowInfo | null, info: ShowInfo): string | null {
  if (prev === null) return null;
  if (prev.pid !== info.pid) return `pid ${String(prev.pid)} -> ${String(info.pid)}`;
  if (prev.startTimeSec !== null && info.startTimeSec !== null && prev.startTimeSec !== info.startTimeSec) return 'start time changed';
  if (info.uptimeSec < prev.uptimeSec) return `uptime went back from ${String(prev.uptimeSec)}s to ${String(info.uptimeSec)}s`;
  return null;
}

/**
 * What the first read of a HAProxy process says about its configuration: backends that
 * do not exist, slots without an address, a layout or an algorithm to know about, cookies
 * that will not make sessions sticky. `firstContact`: the first process this socket showed.
 */
export function checkProcess(
  socket: string,
  snap: Snapshot,
  backends: readonly BackendSpec[],
  options: Readonly<{ cookieKey: string | null; firstContact: boolean; weights: WeightPolicy }>,
): Finding[] {
  const out: Finding[] = [];
  if (snap.layout !== null) out.push({ kind: 'layout-differs', socket, version: snap.info.version, ...snap.layout });
  const { upgrade } = snap.info.caps;
  if (upgrade !== null) out.push({ kind: 'old-version', socket, version: snap.info.version, maintBroken: upgrade.maintBroken });
  for (const spec of backends) {
    const view = snap.backends.get(spec.backend);
    if (view === null || view === undefined) {
      if (options.firstContact) out.push({ kind: 'backend-missing', backend: spec.backend, socket, firstContact: true });
      continue;
    }
    const managed = managedOf(view, spec, snap.info).servers;
    if (managed.length === 0) out.push({ kind: 'no-managed-servers', backend: spec.backend, socket, prefix: spec.prefix });
    const resolved = managed.filter((s) => s.srvRecord !== null);
    const record = resolved[0]?.srvRecord;
    if (record !== undefined && record !== null)
      out.push({ kind: 'slots-resolved-by-haproxy', backend: spec.backend, socket, servers: resolved.map((s) => s.name), record });
    if (view.facts.algo === 'static-rr' && options.weights === 'srv')
      out.push({ kind: 'static-weights', backend: spec.id, socket, algo: view.facts.algo });
    const { mode, cookieName, addressesShown } = view.facts;
    if (cookieName !== '' && mode !== '' && mode !== 'http')
      out.push({ kind: 'cookies-without-http', backend: spec.backend, socket, mode });
    // Below level operator the cookies are hidden, not missing: nothing to say about them.
    const sticky = addressesShown ? stickinessProblem(view) : null;
    if (sticky !== null) out.push({ kind: 'not-sticky', backend: spec.backend, socket, problem: sticky });
    const differs = options.cookieKey === null ? null : cookieKeyDiffers(view, spec, snap.info, options.cookieKey);
    if (differs !== null) out.push({ kind: 'cookie-key-differs', backend: spec.backend, socket, server: differs });
  }
  return out;
}

/**
 * What the first read of a new process (a reload, a restart) says of how its slots came
 * back: slots declared with an IP literal that are not in maintenance, on an address:port
 * DNS does not give. A server-state-file gives such a slot its saved port and state but the
 * configured address (HAProxy restores the address only for a server declared with a name,
 * through `init-addr last`), so it served its placeholder from the process's first request.
 */
export function restoredWithoutAddress(socket: string, snap: Snapshot, backends: readonly BackendInForce[]): Finding[] {
  const out: Finding[] = [];
  for (const b of backends) {
    const view = snap.backends.get(b.spec.backend);
    if (view === null || view === undefined || b.endpoints === null) continue;
    const wanted = new Set(b.endpoints.map(endpointKey));
    // Compared in one form, whatever way this HAProxy prints an address.
    const key = (s: Readonly<{ address: string; port: number }>): string =>
      endpointKey({ address: isIPAddress(s.address) ? canonicalIP(s.address) : s.address, port: s.port });
    const placeholders = managedOf(view, b.spec, snap.info).servers.filter(
      (s) => s.fqdn === null && s.address !== '-' && s.admin !== 'maint' && !wanted.has(key(s)),
    );
    const first = placeholders[0];
    if (first === undefined) continue;
    out.push({
      kind: 'restored-without-address',
      backend: b.spec.id,
      socket,
      servers: placeholders.map((s) => s.name),
      example: `${first.name} on ${endpointKey(first)}`,
    });
  }
  return out;
}

/** The step that asks `level admin` where only a write tells (1.8): a managed server's weight set to what it has, which changes nothing. */
export function adminProbe(snap: Snapshot, backends: readonly BackendSpec[]): Step | null {
  for (const spec of backends) {
    const view = snap.backends.get(spec.backend);
    const s = view === null || view === undefined ? undefined : managedOf(view, spec, snap.info).servers[0];
    if (s !== undefined) return { kind: 'set-weight', backend: spec.backend, server: s.name, weight: s.weight };
  }
  return null;
}

function stickinessProblem(view: BackendView): string | null {
  if (view.facts.cookieName === '') return 'the backend sets no cookie';
  const withAddress = view.servers.filter((s) => s.address !== '-');
  if (withAddress.length > 0 && withAddress.every((s) => (view.facts.cookies.get(s.name) ?? '') === '')) {
    return 'servers carry no cookie: dynamic cookies are off or dynamic-cookie-key is missing';
  }
  return null;
}

function cookieKeyDiffers(view: BackendView, spec: BackendSpec, info: ShowInfo, key: string): string | null {
  for (const s of managedOf(view, spec, info).servers) {
    const shown = view.facts.cookies.get(s.name) ?? '';
    if (shown !== '' && s.address !== '-' && dynamicCookie(key, s.address, s.port) !== shown) return s.name;
  }
  return null;
}

/**
 * Whether servers may be added (--dynamic-servers): said once a run when they may not, or
 * when they are added without health checks (2.4).
 */
export function dynamicAllowed(socket: string, snap: Snapshot, findings: Finding[]): boolean {
  const { version, caps } = snap.info;
  if (caps.noDynamicServers !== null) {
    findings.push({ kind: 'dynamic-unsupported', socket, version, reason: caps.noDynamicServers });
    return false;
  }
  if (!addedChecks(snap)) findings.push({ kind: 'added-unchecked', socket, version });
  return true;
}

/** Whether `add server` takes `check` (and so `enable health` has a check to enable). */
export function addedChecks(snap: Snapshot): boolean {
  return snap.info.caps.addServer?.check === true;
}
