import { describe, expect, it } from 'vitest';
import { randomId } from './ids.ts';

describe('randomId', () => {
  it('gives 16-bit IDs that do not repeat a pattern, across a refill of its pool', () => {
    const ids = Array.from({ length: 3_000 }, () => randomId()); // the pool holds 1024
    expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id <= 0xffff)).toBe(true);
    expect(new Set(ids).size).toBeGreaterThan(2_800); // 3000 draws of 65536 values: about 65 collide
    expect(new Set(ids.map((id) => id >> 8)).size).toBeGreaterThan(200); // the high byte varies too
  });
});
