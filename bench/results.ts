/**
 * bench/results/results.md in sections: the convergence, apply and at-rest parts first (one
 * run, one header), then the sections of the slow, busy, memory and reload parts, each with its own run
 * label. A run that leaves a section out keeps that section as the file has it, so one part
 * run alone replaces its own figures and no others.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

export const RESULTS = new URL('./results/', import.meta.url);
const FILE = new URL('results.md', RESULTS);

/** The heading each section of its own starts with, in the order they are written. */
const SECTIONS = {
  slow: '## Slow DNS server',
  busy: '## Busy DNS server',
  memory: '## Memory through DNS',
  reload: '## Reload under sticky load',
} as const;
type Section = keyof typeof SECTIONS;

/** The file as sections: `main` (everything before the first section of its own) and each section's text. */
function split(text: string): { main: string; sections: Partial<Record<Section, string>> } {
  const starts = (Object.keys(SECTIONS) as Section[])
    .map((k) => ({ k, at: text.indexOf(`\n${SECTIONS[k]}`) }))
    .filter((s) => s.at >= 0)
    .sort((a, b) => a.at - b.at);
  const sections: Partial<Record<Section, string>> = {};
  starts.forEach((s, i) => {
    sections[s.k] = text.slice(s.at + 1, starts[i + 1]?.at ?? text.length).trimEnd();
  });
  return { main: text.slice(0, starts[0]?.at ?? text.length).trimEnd(), sections };
}

/** Writes results.md from what this run measured (null: not run, the file's copy stays). */
export function writeResults(run: Readonly<{ main: readonly string[] | null } & Record<Section, readonly string[] | null>>): void {
  mkdirSync(RESULTS, { recursive: true });
  const old = split(existsSync(FILE) ? readFileSync(FILE, 'utf8') : '');
  const text = (lines: readonly string[] | null, kept: string | undefined): string | undefined =>
    lines === null ? kept : lines.join('\n').trimEnd();
  const parts = [text(run.main, old.main), ...(Object.keys(SECTIONS) as Section[]).map((k) => text(run[k], old.sections[k]))].filter(
    (p): p is string => p !== undefined && p !== '',
  );
  writeFileSync(FILE, `${parts.join('\n\n')}\n`);
}
