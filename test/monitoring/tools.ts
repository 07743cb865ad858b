import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository's root, with a trailing slash. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const readRepoFile = (path: string): string => readFileSync(ROOT + path, 'utf8');

/**
 * Runs a tool the monitoring checks need, from the repository's root. A missing tool is an
 * error that names the package to install: these checks never skip.
 */
export function runTool(
  cmd: 'promtool' | 'kubectl',
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { ok: boolean; output: string; stdout: string } {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', env, timeout: 60_000 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new Error(MISSING[cmd]);
  if (r.error !== undefined) throw r.error;
  return { ok: r.status === 0, output: r.stdout + r.stderr, stdout: r.stdout };
}

const MISSING = {
  promtool:
    "promtool is not on PATH: install Debian's prometheus package (apt-get install prometheus; scripts/dev does it), which brings promtool and prometheus",
  kubectl: 'kubectl is not on PATH: the monitoring component is rendered with `kubectl kustomize` (kubectl 1.27 or later, kustomize v5)',
};

/** The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces as dashes. */
export const headingAnchor = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

/** The anchors of every heading of a Markdown text. */
export const anchorsOf = (markdown: string): Set<string> =>
  new Set([...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) => headingAnchor(m[1] ?? '')));
