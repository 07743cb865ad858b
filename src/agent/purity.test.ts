import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The pass's decisions are pure like the core: they read what was observed and return
// data. Value imports come from the core (and from each other) only; anything else is
// imported for its types.
for (const file of ['decide.ts', 'checks.ts']) {
  const text = readFileSync(new URL(`./${file}`, import.meta.url), 'utf8');

  describe(`src/agent/${file}`, () => {
    it('imports values from the core and the other pure decisions only, and everything else as types', () => {
      const imports = [...text.matchAll(/^import (type )?[^;]*? from '([^']+)';$/gms)].map((m) => ({
        typeOnly: m[1] !== undefined,
        from: m[2],
      }));
      expect(imports.length).toBeGreaterThan(3);
      for (const i of imports) {
        if (!i.typeOnly) expect(i.from, `value import from ${String(i.from)}`).toMatch(/^(\.\.\/core\/[a-z-]+|\.\/(decide|checks))\.ts$/);
      }
    });

    it('reads no clock, timer, process or console', () => {
      expect(text).not.toMatch(/\b(Date\.now|new Date|setTimeout|setInterval|performance\.now|process\.|console\.)/);
    });
  });
}
