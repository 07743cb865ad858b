/**
 * What each HAProxy version can do, in one table: every other module reads these facts and
 * compares no version itself (src/haproxy/capabilities.test.ts keeps it so). The facts come
 * from HAProxy's sources and docs at release tags, and were measured on builds of 1.8.0 to
 * 3.4.0.
 */

/** `add server` and `del server` (2.4+): what they take and how they must be sent. */
export type AddServer = Readonly<{
  /** `add server` takes `check` (2.5+; 2.4 refuses it), so `enable health` has a check to enable. */
  check: boolean;
  /** An added server gets its dynamic cookie like a slot (3.0+); before, its clients are not sticky. */
  cookies: boolean;
  /** Both need `experimental-mode on` earlier on their connection (2.4, 2.5). */
  experimental: boolean;
  /** `add server` prints its replies without their newline (2.4): a command that always answers must follow it. */
  unterminated: boolean;
}>;

export type Capabilities = Readonly<{
  /** `show cli level` answers the socket's level (2.0+); before, only a write tells whether it is `admin`. */
  cliLevel: boolean;
  /** How many columns `show servers state` prints: 19 (1.8.0-1.8.13), 20 (1.8.14-2.3, srvrecord), 25 (2.4+); null before 1.8. */
  stateColumns: number | null;
  /** `add server` (with `id` and `backup`) and `del server`, null before 2.4. */
  addServer: AddServer | null;
  /** Why the agent adds no server here (--dynamic-servers), or null when it does. */
  noDynamicServers: string | null;
  /**
   * A 1.8 patch level to upgrade from, or null: 1.8.0-1.8.3 start in time quadratic in the
   * slots with dynamic cookies (fixed in 1.8.4), and 1.8.0-1.8.1 do not take a server down on
   * `state maint` (`maintBroken`, fixed in 1.8.2).
   */
  upgrade: Readonly<{ maintBroken: boolean }> | null;
}>;

type Release = Readonly<{ major: number; minor: number; patch: number | null }>;

/** The facts of the version `show info` printed ("1.8.30", "2.6.12-1+deb12u4"); null when it does not start with a release. */
export function capabilities(version: string): Capabilities | null {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  if (m === null) return null;
  const v: Release = { major: Number(m[1]), minor: Number(m[2]), patch: m[3] === undefined ? null : Number(m[3]) };
  const since = (major: number, minor: number, patch = 0): boolean =>
    v.major !== major ? v.major > major : v.minor !== minor ? v.minor > minor : (v.patch ?? 0) >= patch;
  const on18 = v.major === 1 && v.minor === 8;
  return {
    cliLevel: since(2, 0),
    stateColumns: !since(1, 8) ? null : !since(1, 8, 14) ? 19 : !since(2, 4) ? 20 : 25,
    addServer: since(2, 4) ? { check: since(2, 5), cookies: since(3, 0), experimental: !since(2, 6), unterminated: !since(2, 5) } : null,
    noDynamicServers: !since(2, 4)
      ? '"add server" needs 2.4 or later'
      : // 2.4.0's del server leaves the server in the backend's index of ids (fixed in 2.4.1,
        // 82d7f7746): an added server's id would then be read from freed memory.
        v.major === 2 && v.minor === 4 && v.patch === 0
        ? 'it keeps a deleted server in its index of server ids; fixed in 2.4.1'
        : null,
    upgrade: on18 && v.patch !== null && v.patch < 4 ? { maintBroken: v.patch < 2 } : null,
  };
}
