import { describe, expect, it } from 'vitest';
import { SerialTrust } from './serial-trust.ts';

const NAME = '_http._tcp.web.default.svc.cluster.local';
const facts = { endpoints: '10.0.0.1 8080 1 0', targets: ['10-0-0-1.web.default.svc.cluster.local'], maxTtl: 5 };
const reading = (serial: number) => ({ serial, zone: 'cluster.local', ttl: 5, authoritative: true });

/** A trust whose serial moved (1 -> 2) at t=1000 and whose full answer at t=9000 came after it settled. */
function settled(freshMs = 500): SerialTrust {
  const t = new SerialTrust({ maxMs: 30_000, freshMs });
  const full = (now: number): void => {
    t.done(t.begin(NAME, now), facts);
  };
  t.read(NAME, reading(1), 0);
  full(0);
  t.read(NAME, reading(2), 1_000);
  full(1_000);
  t.read(NAME, reading(2), 9_000);
  full(9_000);
  return t;
}

describe('SerialTrust', () => {
  it('stands on a serial read after the full answer, while that read is fresh', () => {
    const t = settled();
    t.read(NAME, reading(2), 9_200);
    expect(t.check(NAME, 9_300)).toBe('stands');
    expect(t.check(NAME, 9_800)).toBe('ask'); // the read is 600 ms old
    expect(t.fresh(NAME, 9_800)).toBe(false);
  });

  it('does not stand on a read taken before the full answer', () => {
    const t = settled();
    expect(t.check(NAME, 9_100)).toBe('ask');
  });

  it('drops the trust when the serial moves, even back to the one it had', () => {
    const t = settled();
    t.read(NAME, reading(3), 9_200);
    t.read(NAME, reading(2), 9_400);
    expect(t.check(NAME, 9_400)).toBe('ask');
  });

  it('asks for the record to be verified once --serial-trust has passed since the full answer', () => {
    const t = settled();
    t.read(NAME, reading(2), 39_000);
    expect(t.check(NAME, 39_000)).toBe('verify');
  });

  it('forgets a name that gave no records', () => {
    const t = settled();
    t.forget(NAME);
    t.read(NAME, reading(2), 9_200);
    expect(t.check(NAME, 9_200)).toBe('ask');
  });

  it('distrusts a serial that stood still while the records changed', () => {
    const t = settled();
    t.read(NAME, reading(2), 39_000);
    t.done(t.begin(NAME, 39_000), { ...facts, endpoints: '10.0.0.2 8080 1 0' });
    expect(t.distrusted(NAME)).toBe(true);
    t.read(NAME, reading(2), 40_000);
    expect(t.check(NAME, 40_000)).toBe('ask');
  });

  it('says the serial and whether it stands for the records, or why not', () => {
    expect(new SerialTrust({ maxMs: 0, freshMs: 0 }).view(NAME, 0)).toBeNull(); // neither --watch nor --serial-trust
    const watchOnly = new SerialTrust({ maxMs: 0, freshMs: 2_000 });
    watchOnly.read(NAME, reading(7), 0);
    expect(watchOnly.view(NAME, 0)).toEqual({ serial: 7, trusted: false, why: '--serial-trust is off: the record is asked every run' });
    const fresh = new SerialTrust({ maxMs: 30_000, freshMs: 500 });
    expect(fresh.view(NAME, 0)).toEqual({ serial: null, trusted: false, why: 'no serial read yet' });
    fresh.read(NAME, reading(1), 0);
    expect(fresh.view(NAME, 0)?.why).toBe('not seen to move yet');
    const t = settled();
    t.read(NAME, reading(2), 9_200);
    expect(t.view(NAME, 9_300)).toEqual({ serial: 2, trusted: true, why: null });
    expect(t.view(NAME, 9_800)?.why).toBe('no fresh read of it');
    t.read(NAME, reading(2), 39_000);
    t.done(t.begin(NAME, 39_000), { ...facts, endpoints: '10.0.0.2 8080 1 0' });
    expect(t.view(NAME, 39_000)).toEqual({ serial: 2, trusted: false, why: 'it stood still while the records changed' });
  });
});
