import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorsOf } from '../monitoring/tools.ts';
import { ROOT } from './kustomize.ts';

/** The project's Markdown: the README, CONTRIBUTING, CHANGELOG and docs/. */
const DOCS = ['README.md', 'CONTRIBUTING.md', 'CHANGELOG.md', ...readdirSync(join(ROOT, 'docs')).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith('.md'),
);

/** Markdown without its fenced code blocks and inline code, where a bracket is not a link. */
const prose = (md: string): string => md.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');

/** Each relative link of a Markdown file: its target path (from the repository's root, empty for the file itself) and anchor. */
function relativeLinks(file: string): { link: string; path: string; anchor: string }[] {
  const text = prose(readFileSync(join(ROOT, file), 'utf8'));
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] ?? '')
    .filter((link) => !/^[a-z][a-z0-9+.-]*:/i.test(link))
    .map((link) => {
      const [target = '', anchor = ''] = link.split('#');
      return { link, path: target === '' ? file : relative(ROOT, join(ROOT, dirname(file), target)), anchor };
    });
}

describe('the documentation', () => {
  it('has a README that is a landing page: at most ~200 lines, the two commands first, and an index of docs/', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(200);
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(firstBlock).toMatch(/^scripts\/dev demo\b/m);
    expect(firstBlock).toMatch(/^scripts\/dev test\b/m);
    for (const f of DOCS.filter((d) => d.startsWith('docs/'))) expect(readme, `the README's index links ${f}`).toContain(`](${f})`);
  });

  it.each(DOCS)('%s: every relative link and anchor resolves', (file) => {
    const links = relativeLinks(file);
    const broken = links.filter(({ path, anchor }) => {
      const target = join(ROOT, path);
      if (!existsSync(target)) return true;
      if (anchor === '') return false;
      return !statSync(target).isFile() || !anchorsOf(readFileSync(target, 'utf8')).has(anchor);
    });
    expect(broken.map((b) => b.link)).toEqual([]);
  });

  it('finds the links it checks (the reader is not blind)', () => {
    const all = DOCS.flatMap(relativeLinks);
    expect(all.length).toBeGreaterThan(50);
    expect(all.filter((l) => l.anchor !== '').length).toBeGreaterThan(20);
    expect(relativeLinks('README.md').map((l) => l.link)).toContain('docs/kubernetes.md#adding-the-agent-to-your-haproxy');
  });
});
