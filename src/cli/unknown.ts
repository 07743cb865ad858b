import { envName, FLAGS } from './flags.ts';

/**
 * What the agent says of a flag or an environment variable it does not know: a typo is an
 * error that names the nearest known one, never a setting silently dropped.
 */

/** Every variable name of the agent starts with this (any case is taken as meant for it). */
export const ENV_PREFIX = 'HAPROXY_DNS_AGENT_';

/**
 * Service links: Kubernetes gives every container `<NAME>_SERVICE_HOST`, `<NAME>_PORT_9090_TCP`
 * and the like for each Service in its namespace (unless the pod sets `enableServiceLinks:
 * false`), so a Service named haproxy-dns-agent puts these in the agent's environment. They
 * are not settings, and not typos.
 */
const SERVICE_LINK = new RegExp(
  `^${ENV_PREFIX}(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_\\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?)$`,
);

/**
 * One line per variable in `env` whose name starts with HAPROXY_DNS_AGENT_ (in any case)
 * and is not a flag's variable, spelt exactly: each names the nearest known variable.
 */
export function unknownVariables(env: Readonly<Record<string, string | undefined>>): string[] {
  const known = FLAGS.filter((f) => f.argvOnly !== true).map((f) => envName(f.name));
  const out: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.toUpperCase().startsWith(ENV_PREFIX) || known.includes(name) || SERVICE_LINK.test(name)) continue;
    const argvOnly = FLAGS.find((f) => f.argvOnly === true && envName(f.name) === name.toUpperCase());
    if (argvOnly !== undefined) {
      out.push(`${name}: --${argvOnly.name} is read from the command line only: expected no such variable`);
      continue;
    }
    const near = nearest(name.toUpperCase(), known);
    const hint = near.name === name.toUpperCase() ? `did you mean ${near.name}? variable names are upper case` : suggestion(near);
    out.push(`unknown variable ${name} (${hint})`);
  }
  return out;
}

/** `unknown flag --x (did you mean --y?)` for a flag parseArgs did not know. */
export function unknownFlag(arg: string): string {
  const known = FLAGS.flatMap((f) => [`--${f.name}`, ...(f.short === undefined ? [] : [`-${f.short}`])]);
  return `unknown flag ${arg} (${suggestion(nearest(arg, known))})`;
}

type Near = Readonly<{ name: string; distance: number }>;

/** "did you mean X?" when X is a likely typo of what was given; otherwise still names it, as the nearest. */
function suggestion(near: Near): string {
  const close = near.distance <= Math.max(2, Math.floor(near.name.length / 4));
  return close ? `did you mean ${near.name}?` : `the nearest known one is ${near.name}; see --help`;
}

/** The candidate with the smallest edit distance to `name` (the first of equals). */
function nearest(name: string, candidates: readonly string[]): Near {
  let best: Near = { name: candidates[0] ?? '', distance: Infinity };
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < best.distance) best = { name: c, distance: d };
  }
  return best;
}

/** Levenshtein distance: insertions, deletions and substitutions. Both strings are short (names). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
