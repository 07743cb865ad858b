import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const DIR = new URL('./', import.meta.url);
const sources = readdirSync(DIR)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
  .map((f) => ({ file: f, text: readFileSync(new URL(f, DIR), 'utf8') }));

// The core is the part of the agent that can be reasoned about alone: it decides, it does
// not do. This keeps it so.
describe('src/core', () => {
  it('imports nothing but other core modules', () => {
    for (const { file, text } of sources) {
      const imports = [...text.matchAll(/\bfrom '([^']+)'|\bimport\(\s*'([^']+)'|\brequire\(\s*'([^']+)'/g)].map(
        (m) => m[1] ?? m[2] ?? m[3],
      );
      for (const i of imports) expect(i, `${file} imports ${String(i)}`).toMatch(/^\.\/[a-z-]+\.ts$/);
    }
  });

  it('reads no clock, timer, process or console', () => {
    for (const { file, text } of sources) {
      expect(text, file).not.toMatch(/\b(Date\.now|new Date|setTimeout|setInterval|performance\.now|process\.|console\.)/);
    }
  });
});
