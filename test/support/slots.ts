import type { Slot } from '../../src/core/types.ts';

/** A free slot as a server-template declares it (127.0.0.1:9, in maintenance, checked), `extra` changed. */
export const freeSlot = (id: number, extra: Partial<Slot> = {}): Slot => ({
  name: `srv${String(id)}`,
  id,
  address: '127.0.0.1',
  port: 9,
  admin: 'maint',
  opState: 0,
  checked: true,
  weight: 1,
  backup: false,
  added: false,
  ...extra,
});
