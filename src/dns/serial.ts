import type { Nameserver } from '../config/model.ts';
import { ask, type Transport, type TransportHooks } from './transport.ts';

/**
 * The serial of the zone holding `name`: an SOA question for `name` itself, which an
 * authoritative server answers with the zone's SOA (in the answer at the apex, in the
 * authority section below it). BIND raises the serial with every change; CoreDNS's
 * kubernetes plugin sets it to the time of the last change it saw (to the second). null
 * when the answer holds no SOA.
 */
export async function askSerial(
  ns: Nameserver,
  name: string,
  timeoutMs: number,
  hooks: TransportHooks,
): Promise<{ serial: number | null; transport: Transport; rcode: string }> {
  const { reply, transport } = await ask(ns, { name, type: 'SOA' }, timeoutMs, hooks);
  const soa = [...reply.answers, ...(reply.authorities ?? [])].find((r) => r.type === 'SOA');
  const serial = soa?.type === 'SOA' ? soa.data.serial : undefined;
  return { serial: typeof serial === 'number' ? serial : null, transport, rcode: reply.rcode };
}
