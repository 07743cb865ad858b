/**
 * What `show stat` says of a backend's configuration (backup servers, cookies, algorithm,
 * mode): read once per HAProxy process, and again when the state names a server they do not
 * know (one added at run time).
 */
import { parseShowStat, type StatRow } from './parse.ts';

/** What `show stat` says of a backend: facts that change only with HAProxy's configuration. */
export type BackendConfigFacts = Readonly<{
  /** Servers declared `backup`. */
  backup: ReadonlySet<string>;
  /** Server -> the dynamic cookie HAProxy gives it ('' when none). */
  cookies: ReadonlyMap<string, string>;
  /** The backend's balance algorithm, cookie name ('' when it sets none) and mode (http, tcp; '' when not shown). */
  algo: string;
  cookieName: string;
  mode: string;
  /**
   * Whether `show stat` shows the servers' addresses and cookies: below level operator it
   * leaves both columns empty, so a cookie that looks missing may only be hidden.
   */
  addressesShown: boolean;
  /** Server -> its `show stat` addr ('' when hidden, or when it has none). */
  statAddresses: ReadonlyMap<string, string>;
}>;

/** The `show stat` columns the agent reads. */
const STAT_COLUMNS = ['pxname', 'svname', 'scur', 'bck', 'cookie', 'algo', 'mode', 'addr'];

export const NO_FACTS: BackendConfigFacts = {
  backup: new Set(),
  cookies: new Map(),
  algo: '',
  cookieName: '',
  mode: '',
  addressesShown: true,
  statAddresses: new Map(),
};

/** The facts of `backend` in a reply to `show stat <backend> 6 -1`. */
export function factsOfStat(reply: string, backend: string): BackendConfigFacts {
  return factsOf(parseShowStat(reply, STAT_COLUMNS).filter((r) => r['pxname'] === backend));
}

function factsOf(rows: readonly StatRow[]): BackendConfigFacts {
  const servers = rows.filter((r) => r['svname'] !== 'BACKEND' && r['svname'] !== 'FRONTEND');
  const summary = rows.find((r) => r['svname'] === 'BACKEND');
  return {
    backup: new Set(servers.filter((r) => r['bck'] === '1').map((r) => r['svname'] ?? '')),
    cookies: new Map(servers.map((r) => [r['svname'] ?? '', r['cookie'] ?? ''])),
    algo: summary?.['algo'] ?? '',
    cookieName: summary?.['cookie'] ?? '',
    mode: summary?.['mode'] ?? '',
    addressesShown: true, // judged against the state dump, in observe()
    statAddresses: new Map(servers.map((r) => [r['svname'] ?? '', r['addr'] ?? ''])),
  };
}
