/**
 * What a socket lane reads of a HAProxy process besides its state: at first contact with a
 * process, its configuration (checks.ts, pure) and whether the socket may write; before a
 * run starts draining servers or takes them out of service, their live sessions.
 */
import type { BackendSpec } from '../config/model.ts';
import { severityOf, type Finding } from '../core/findings.ts';
import type { WeightPolicy } from '../core/plan.ts';
import type { SlotTarget } from '../core/types.ts';
import type { HaproxyPort, Snapshot } from '../haproxy/runtime.ts';
import { adminProbe, checkProcess } from './checks.ts';
import type { Work } from './decide.ts';
import type { Writer } from './writers.ts';

export type ContactOptions = Readonly<{ cookieKey: string | null; weights: WeightPolicy; firstContact: boolean }>;

/**
 * First contact with a HAProxy process: its configuration, and whether the socket may
 * write. `checked` when the process passed (its findings are warnings at most and the
 * socket is level admin): it need not be checked again.
 */
export async function checkContact(
  socket: string,
  snap: Snapshot,
  specs: readonly BackendSpec[],
  io: Readonly<{ port: HaproxyPort; writer: Writer }>,
  o: ContactOptions,
): Promise<Readonly<{ findings: Finding[]; checked: boolean }>> {
  const findings = checkProcess(socket, snap, specs, o);
  if (findings.some((f) => severityOf(f) === 'fatal')) return { findings, checked: false };
  // Asked before anything is said of the configuration: a socket that may not write is the one thing to say.
  const probe = adminProbe(snap, specs);
  const admin = (await io.port.isAdmin(snap.info)) ?? (probe === null ? null : await io.writer.probeAdmin(io.port, probe));
  if (admin === false) return { findings: [{ kind: 'not-admin', socket, command: null }], checked: false };
  return { findings, checked: true };
}

/**
 * Live sessions (`backend/server` -> count, every server of the backend) before servers
 * start draining (the status page) or leave for maintenance (their log line): one read of
 * each such backend, only then.
 */
export async function liveSessionsOfLeaving(port: HaproxyPort, work: readonly Work[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const leaving = work.filter((w) => w.plan.changes.some((c) => leaves(c.from, c.to) || drains(c.from, c.to)));
  for (const w of leaving) {
    const sessions = await port.sessions(w.spec.backend).catch(() => new Map<string, number>());
    for (const [server, n] of sessions) out.set(`${w.spec.backend}/${server}`, n);
  }
  return out;
}

const leaves = (from: SlotTarget, to: SlotTarget): boolean => to.admin === 'maint' && from.admin !== 'maint';
const drains = (from: SlotTarget, to: SlotTarget): boolean => to.admin === 'drain' && from.admin !== 'drain';
