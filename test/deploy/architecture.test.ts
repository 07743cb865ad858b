import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './kustomize.ts';

const SRC = join(ROOT, 'src');
const PAGE = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');

/** Every non-test .ts file under src/, by its path relative to src/ (`dns/turns.ts`). */
function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : [relative(SRC, join(dir, e.name)).replaceAll('\\', '/')]))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort();
}

/** The text of a `## ` section of the page, up to the next one. */
function section(page: string, heading: string): string {
  const text = `\n${page}`;
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) return '';
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

/** The files "Every source file" gives a line: the path in backticks that starts each bullet. */
function listedFiles(page: string): string[] {
  return [...section(page, 'Every source file').matchAll(/^- `([^`]+\.ts)`/gm)].map((m) => m[1] ?? '').sort();
}

/** Every .ts path the page names anywhere (prose, tables, the diagram), as written. */
function namedPaths(page: string): string[] {
  return [...new Set([...page.matchAll(/(?<![\w./-])((?:[\w.-]+\/)*[\w-]+(?:\.[\w-]+)*\.ts)\b/g)].map((m) => m[1] ?? ''))];
}

/** A path the page names resolves under src/ (as the page writes them) or from the repository's root. */
const resolves = (path: string): boolean => existsSync(join(SRC, path)) || existsSync(join(ROOT, path));

/** The numbered steps of "One DNS change, start to finish", each with the files and the functions (`name()`) it names. */
function pathSteps(page: string): { text: string; files: string[]; functions: string[] }[] {
  const items = section(page, 'One DNS change, start to finish')
    .split(/\n(?=\d+\. )/)
    .slice(1);
  return items.map((text) => ({
    text,
    files: [...text.matchAll(/`([^`\s]+\.ts)`/g)].map((m) => m[1] ?? ''),
    functions: [...text.matchAll(/`([A-Za-z_$][\w$]*(?:\.[\w$]+)?)\(\)`/g)].map((m) => m[1] ?? ''),
  }));
}

const escape = (s: string): string => s.replace(/[$]/g, '\\$&');

/** Whether `source` declares `name` (a function, a class, a const, or a method of a class) or, for `Class.member`, the class and its member. */
function declares(source: string, name: string): boolean {
  const dot = name.indexOf('.');
  const owner = dot < 0 ? null : name.slice(0, dot);
  const fn = escape(name.slice(dot + 1));
  const declared = new RegExp(
    `^(?:export )?(?:async )?function\\*? ${fn}\\b|^(?:export )?(?:const|class) ${fn}\\b|^  (?:static )?(?:async )?(?:get )?#?${fn}\\s*[(<]`,
    'm',
  );
  if (!declared.test(source)) return false;
  return owner === null || new RegExp(`^(?:export )?class ${escape(owner)}\\b`, 'm').test(source);
}

describe('docs/architecture.md, the map of src/', () => {
  const files = sourceFiles();

  it('gives every source file a line under "Every source file", and no line to a file that is not there', () => {
    const listed = listedFiles(PAGE);
    expect(
      files.filter((f) => !listed.includes(f)),
      'source files without a line: add one to docs/architecture.md',
    ).toEqual([]);
    expect(
      listed.filter((f) => !files.includes(f)),
      'lines for files that are not in src/',
    ).toEqual([]);
    expect(new Set(listed).size, 'a file listed twice').toBe(listed.length);
  });

  it('names only files that exist', () => {
    expect(namedPaths(PAGE).filter((p) => !resolves(p))).toEqual([]);
  });

  it('walks one DNS change in at most 10 steps and 13 files, each function declared in a file its step names', () => {
    const steps = pathSteps(PAGE);
    expect(steps.length).toBeGreaterThanOrEqual(5);
    expect(steps.length).toBeLessThanOrEqual(10);
    expect(new Set(steps.flatMap((s) => s.files)).size).toBeLessThanOrEqual(13);
    const misplaced: string[] = [];
    for (const [i, step] of steps.entries()) {
      const sources = step.files.filter((f) => existsSync(join(SRC, f))).map((f) => readFileSync(join(SRC, f), 'utf8'));
      for (const fn of step.functions) if (!sources.some((s) => declares(s, fn))) misplaced.push(`step ${String(i + 1)}: ${fn}()`);
    }
    expect(misplaced, 'functions not declared in the files their step names').toEqual([]);
  });

  it('every function the page names, `name()`, is declared in src/', () => {
    const sources = files.map((f) => readFileSync(join(SRC, f), 'utf8'));
    const names = [...new Set([...PAGE.matchAll(/`([A-Za-z_$][\w$]*(?:\.[\w$]+)?)\(\)`/g)].map((m) => m[1] ?? ''))];
    expect(names.length).toBeGreaterThan(20);
    expect(names.filter((n) => !sources.some((s) => declares(s, n)))).toEqual([]);
  });

  it('finds what it checks (the reader is not blind)', () => {
    // A file added to src/ without a line, and a line for a file that went, are both told apart.
    const page = '## Every source file\n\n- `core/plan.ts`: the planner.\n- `core/gone.ts`: was here.\n\n## Next\n';
    expect(listedFiles(page)).toEqual(['core/gone.ts', 'core/plan.ts']);
    expect(files.filter((f) => !listedFiles(page).includes(f))).toContain('dns/turns.ts');
    expect(
      namedPaths('`core/plan.ts` and src/dns/turns.ts, test/deploy/docs-links.test.ts and `gone/away.ts`').filter((p) => !resolves(p)),
    ).toEqual(['gone/away.ts']);
    expect(files.length).toBeGreaterThan(70);
    expect(pathSteps(PAGE).every((s) => s.files.length > 0 && s.functions.length > 0)).toBe(true);
    expect(declares('export class Resolver {\n  async resolve(spec: RecordSpec) {}\n}', 'Resolver.resolve')).toBe(true);
    expect(declares('export class Resolver {\n  async resolve(spec: RecordSpec) {}\n}', 'Resolver.reconfigure')).toBe(false);
    expect(declares('const x = planBackend(input);', 'planBackend')).toBe(false);
  });
});
