import type { Step } from '../core/steps.ts';

/**
 * What counts as success for each step the agent sends, judged by the step's kind. A `;`
 * batch is not atomic, so every reply is judged on its own, on its whole text, not on its
 * first bytes.
 */
export type ReplyVerdict = Readonly<{ ok: boolean; reason: 'ok' | 'permission' | 'static-weights' | 'rejected' }>;

/** `set server addr` answers in prose on success (1.8-2.9 "IP changed from ...", 3.0+ "nothing changed"). */
const ADDR_OK = /^(IP changed from|no need to change the addr|port changed from|nothing changed)/;

const OK: ReplyVerdict = { ok: true, reason: 'ok' };
const REJECTED: ReplyVerdict = { ok: false, reason: 'rejected' };

export function judgeReply(step: Step, reply: string): ReplyVerdict {
  const text = reply.trim();
  if (text === 'Permission denied') return { ok: false, reason: 'permission' };
  if (text.startsWith('Backend is using a static LB algorithm')) return { ok: false, reason: 'static-weights' };
  switch (step.kind) {
    case 'set-addr':
      return ADDR_OK.test(text) ? OK : REJECTED;
    case 'add-server':
      // Parser warnings may come first, one per line; the last line says whether it was added.
      return text.split('\n').at(-1) === 'New server registered.' ? OK : REJECTED;
    case 'del-server':
      return text === 'Server deleted.' ? OK : REJECTED;
    case 'set-weight':
    case 'set-state':
    case 'enable-health':
      // No output at all on success.
      return text === '' ? OK : REJECTED;
  }
}
