/**
 * What counts as success for each command the agent sends. A `;` batch is not atomic, so
 * every reply is judged on its own, on its whole text, not on its first bytes.
 */
export type ReplyVerdict = Readonly<{ ok: boolean; reason: 'ok' | 'permission' | 'static-weights' | 'rejected' }>;

/** `set server addr` answers in prose on success (1.8-2.9 "IP changed from ...", 3.0+ "nothing changed"). */
const ADDR_OK = /^(IP changed from|no need to change the addr|port changed from|nothing changed)/;

const OK: ReplyVerdict = { ok: true, reason: 'ok' };
const REJECTED: ReplyVerdict = { ok: false, reason: 'rejected' };

export function judgeReply(command: string, reply: string): ReplyVerdict {
  const text = reply.trim();
  if (text === 'Permission denied') return { ok: false, reason: 'permission' };
  if (text.startsWith('Backend is using a static LB algorithm')) return { ok: false, reason: 'static-weights' };
  if (/^set server \S+ addr /.test(command)) {
    return ADDR_OK.test(text) ? { ok: true, reason: 'ok' } : { ok: false, reason: 'rejected' };
  }
  // Parser warnings may come first, one per line; the last line says whether it was added.
  if (command.startsWith('add server ')) return text.split('\n').at(-1) === 'New server registered.' ? OK : REJECTED;
  if (command.startsWith('del server ')) return text === 'Server deleted.' ? OK : REJECTED;
  // Sent before add/del on 2.4 and 2.5: "experimental-mode on" answers nothing.
  if (command === 'experimental-mode on') return text === '' ? OK : REJECTED;
  // state, weight: no output at all on success.
  return text === '' ? { ok: true, reason: 'ok' } : { ok: false, reason: 'rejected' };
}
