/**
 * The parts of resolv.conf(5) that decide what a pod's resolver asks, read the way glibc
 * does: the last `search`/`domain` line wins, `options` accumulate, at most three
 * nameservers are used.
 */
export type ResolvConf = Readonly<{
  nameservers: readonly string[];
  search: readonly string[];
  ndots: number;
  timeoutMs: number;
  attempts: number;
}>;

/** glibc's defaults: timeout 5 s, 2 attempts, ndots 1. */
export const RESOLV_DEFAULTS: ResolvConf = { nameservers: [], search: [], ndots: 1, timeoutMs: 5_000, attempts: 2 };

const MAXNS = 3;

export function parseResolvConf(text: string): ResolvConf {
  const nameservers: string[] = [];
  let search: string[] = [];
  let ndots = RESOLV_DEFAULTS.ndots;
  let timeoutMs = RESOLV_DEFAULTS.timeoutMs;
  let attempts = RESOLV_DEFAULTS.attempts;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...args] = line.split(/\s+/);
    switch (key) {
      case 'nameserver':
        if (args[0] !== undefined && nameservers.length < MAXNS) nameservers.push(args[0]);
        break;
      case 'search':
        search = args.map((d) => d.replace(/\.$/, '')).filter((d) => d !== '');
        break;
      case 'domain':
        search = args[0] === undefined ? [] : [args[0].replace(/\.$/, '')];
        break;
      case 'options':
        for (const opt of args) {
          const [name, value] = opt.split(':');
          const n = Number(value);
          if (!Number.isInteger(n) || n < 0) continue;
          if (name === 'ndots') ndots = Math.min(n, 15);
          else if (name === 'timeout') timeoutMs = Math.min(Math.max(n, 1), 30) * 1_000;
          else if (name === 'attempts') attempts = Math.min(Math.max(n, 1), 5);
        }
        break;
      case undefined:
      default:
        break;
    }
  }
  return { nameservers, search, ndots, timeoutMs, attempts };
}

/**
 * The names a stub resolver tries for `name`, in order: a name ending in a dot as it is; a
 * name with at least `ndots` dots as it is first, then through the search list; a shorter
 * one through the search list first.
 */
export function candidateNames(name: string, search: readonly string[], ndots: number): string[] {
  if (name.endsWith('.')) return [name.slice(0, -1)];
  const expanded = search.map((d) => `${name}.${d}`);
  const dots = name.split('.').length - 1;
  return dots >= ndots ? [name, ...expanded] : [...expanded, name];
}
