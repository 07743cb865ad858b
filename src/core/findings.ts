import { MAX_ADDRESSES_PER_TARGET } from './desired.ts';

/**
 * What a pass found wrong or worth saying, as data. Decisions return findings; one module
 * (src/agent/report.ts) turns them into log lines and metrics, and the composition root
 * into `--once`'s lines and exit code. A finding is a condition: it holds for as long as
 * passes keep finding it, and is logged when it appears or changes, not every pass.
 */
export type Finding =
  // A backend's DNS lane
  | Readonly<{ kind: 'dns-failing'; backend: string; record: string; fault: string; detail: string }>
  | Readonly<{ kind: 'dns-unusable-records'; backend: string; record: string; notes: readonly string[] }>
  | Readonly<{ kind: 'endpoint-refused'; backend: string; record: string; endpoint: string; reason: string; hint: string }>
  | Readonly<{ kind: 'endpoints-capped'; backend: string; record: string; kept: number; dropped: number }>
  | Readonly<{ kind: 'endpoints-all-refused'; backend: string; record: string; count: number; policy: string }>
  | Readonly<{ kind: 'serial-distrusted'; backend: string; record: string }>
  // A socket's lane
  | Readonly<{ kind: 'haproxy-unreachable'; socket: string; detail: string }>
  | Readonly<{ kind: 'haproxy-unreadable'; socket: string; detail: string }>
  | Readonly<{ kind: 'haproxy-stopping'; socket: string; pid: number }>
  | Readonly<{ kind: 'apply-failed'; socket: string; detail: string }>
  | Readonly<{ kind: 'no-answer-yet'; backend: string; socket: string }>
  | Readonly<{ kind: 'backend-missing'; backend: string; socket: string; firstContact: boolean }>
  | Readonly<{ kind: 'slots-without-address'; backend: string; socket: string; servers: readonly string[]; all: boolean }>
  | Readonly<{ kind: 'slots-resolved-by-haproxy'; backend: string; socket: string; servers: readonly string[]; record: string }>
  | Readonly<{ kind: 'restored-without-address'; backend: string; socket: string; servers: readonly string[]; example: string }>
  | Readonly<{ kind: 'no-managed-servers'; backend: string; socket: string; prefix: string }>
  | Readonly<{ kind: 'version-unsupported'; socket: string; version: string }>
  | Readonly<{ kind: 'not-admin'; socket: string; command: string | null }>
  | Readonly<{ kind: 'layout-differs'; socket: string; version: string; columns: number; expected: number }>
  | Readonly<{ kind: 'static-weights'; backend: string; socket: string; algo: string }>
  | Readonly<{ kind: 'not-sticky'; backend: string; socket: string; problem: string }>
  | Readonly<{ kind: 'cookies-without-http'; backend: string; socket: string; mode: string }>
  | Readonly<{ kind: 'old-version'; socket: string; version: string; maintBroken: boolean }>
  | Readonly<{ kind: 'dynamic-unsupported'; socket: string; version: string; reason: string }>
  | Readonly<{ kind: 'added-unchecked'; socket: string; version: string }>
  | Readonly<{ kind: 'added-without-cookie'; backend: string; socket: string; version: string }>
  | Readonly<{ kind: 'cookie-key-differs'; backend: string; socket: string; server: string }>
  | Readonly<{ kind: 'endpoints-without-slot'; backend: string; socket: string; endpoints: readonly string[]; count: number }>
  | Readonly<{ kind: 'servers-capped'; backend: string; socket: string; endpoints: number; max: number }>
  | Readonly<{ kind: 'endpoints-unused'; backend: string; socket: string; endpoints: readonly string[]; count: number }>
  | Readonly<{ kind: 'drain-cut'; backend: string; socket: string; servers: readonly string[]; count: number }>
  | Readonly<{ kind: 'command-rejected'; backend: string; socket: string; command: string; reply: string }>
  | Readonly<{ kind: 'not-taken'; backend: string; socket: string; servers: readonly string[] }>;

export type FindingKind = Finding['kind'];

/**
 * The most endpoints or servers a finding names (`endpoints`, `servers`); `count` says how
 * many there are. A list as long as an answer or a state file made a log line as long:
 * 65,000 endpoints, one of 1.3 MB.
 */
export const FINDING_SAMPLE = 10;

/**
 * fatal: the configuration cannot work; the agent stops with the finding's text.
 * problem: HAProxy does not match DNS this pass (`--once` exits 1, readiness may fail).
 * warning: worth an operator's look; the pass still counts as complete.
 */
export type Severity = 'fatal' | 'problem' | 'warning';

/** How each kind is judged, logged and said. `log` null: an event says it already. */
const TABLE: { readonly [K in FindingKind]: Readonly<{ severity: Severity; log: 'error' | 'warn' | 'info' | null }> } = {
  'dns-failing': { severity: 'problem', log: null }, // the hold events say it (src/core/hold.ts)
  'dns-unusable-records': { severity: 'warning', log: 'warn' },
  'endpoint-refused': { severity: 'warning', log: 'warn' },
  'endpoints-capped': { severity: 'warning', log: 'warn' },
  'endpoints-all-refused': { severity: 'problem', log: 'error' },
  'serial-distrusted': { severity: 'warning', log: 'warn' },
  'haproxy-unreachable': { severity: 'problem', log: 'warn' },
  'haproxy-unreadable': { severity: 'problem', log: 'error' },
  'haproxy-stopping': { severity: 'problem', log: 'info' },
  'apply-failed': { severity: 'problem', log: 'warn' },
  'no-answer-yet': { severity: 'problem', log: 'info' },
  'backend-missing': { severity: 'problem', log: 'error' },
  'slots-without-address': { severity: 'warning', log: 'error' },
  'slots-resolved-by-haproxy': { severity: 'fatal', log: null },
  'restored-without-address': { severity: 'warning', log: 'warn' },
  'no-managed-servers': { severity: 'fatal', log: null },
  'version-unsupported': { severity: 'fatal', log: null },
  'not-admin': { severity: 'fatal', log: null },
  'layout-differs': { severity: 'warning', log: 'warn' },
  'static-weights': { severity: 'warning', log: 'warn' },
  'not-sticky': { severity: 'warning', log: 'warn' },
  'cookies-without-http': { severity: 'warning', log: 'warn' },
  'old-version': { severity: 'warning', log: 'warn' },
  'dynamic-unsupported': { severity: 'warning', log: 'warn' },
  'added-unchecked': { severity: 'warning', log: 'warn' },
  'added-without-cookie': { severity: 'warning', log: 'warn' },
  'cookie-key-differs': { severity: 'warning', log: 'warn' },
  'endpoints-without-slot': { severity: 'problem', log: 'warn' },
  'servers-capped': { severity: 'problem', log: 'warn' },
  'endpoints-unused': { severity: 'warning', log: 'warn' },
  'drain-cut': { severity: 'warning', log: 'warn' },
  'command-rejected': { severity: 'problem', log: 'error' },
  'not-taken': { severity: 'problem', log: 'warn' },
};

export function severityOf(f: Finding): Severity {
  // A backend missing at first contact is a spelling mistake; later, a reload in progress.
  if (f.kind === 'backend-missing' && f.firstContact) return 'fatal';
  if (f.kind === 'slots-without-address' && f.all) return 'fatal';
  return TABLE[f.kind].severity;
}

export const logLevelOf = (f: Finding): 'error' | 'warn' | 'info' | null => TABLE[f.kind].log;

/** Which lane raised it: DNS findings name no socket. */
export const isDnsFinding = (f: Finding): boolean =>
  f.kind === 'dns-failing' ||
  f.kind === 'dns-unusable-records' ||
  f.kind === 'endpoint-refused' ||
  f.kind === 'endpoints-capped' ||
  f.kind === 'endpoints-all-refused' ||
  f.kind === 'serial-distrusted';

/** Identifies one condition across passes: the same key with other details is a change. */
export function findingKey(f: Finding): string {
  const where = 'socket' in f ? f.socket : '';
  const backend = 'backend' in f ? f.backend : '';
  const command = f.kind === 'command-rejected' ? f.command : f.kind === 'endpoint-refused' ? f.endpoint : '';
  return `${f.kind}|${backend}|${where}|${command}`;
}

const slotHint = (prefix: string): string => `server-template ${prefix === '' ? 'srv' : prefix} 10 127.0.0.1:9 check disabled`;
/** Slots a server-state-file restores in full: a name (never resolved: .invalid, no resolvers) and the placeholder it starts from. */
const namedSlotHint = 'server-template srv 10 slot.invalid:9 init-addr last,127.0.0.1 check disabled';

/** At most 10 server names, and how many more: a backend may have thousands. */
const namesOf = (servers: readonly string[]): string =>
  servers.length <= 10 ? servers.join(',') : `${servers.slice(0, 10).join(',')} and ${String(servers.length - 10)} more`;

/** One line, for the log message and for `--once`'s stderr. */
export function findingText(f: Finding): string {
  switch (f.kind) {
    case 'dns-failing':
      return `backend ${f.backend}: DNS ${f.record}: ${f.detail}`;
    case 'dns-unusable-records':
      return `backend ${f.backend}: DNS answer had unusable records`;
    case 'endpoint-refused':
      return `backend ${f.backend}: DNS gave ${f.endpoint}, refused (${f.reason}): ${f.hint}`;
    case 'endpoints-capped':
      return `backend ${f.backend}: DNS ${f.record} gave more endpoints than the agent takes: ${countOf(f.kept, 'endpoint')} kept, ${String(f.dropped)} left out (at most --max-endpoints per backend, and ${String(MAX_ADDRESSES_PER_TARGET)} addresses per SRV target): raise --max-endpoints if the service has that many`;
    case 'serial-distrusted':
      return `backend ${f.backend}: the zone's SOA serial stood still while the records of ${f.record} changed: it no longer stands in for them (--serial-trust), and the record is asked every interval`;
    case 'endpoints-all-refused':
      return `backend ${f.backend}: every endpoint DNS gave for ${f.record} (${countOf(f.count, 'endpoint')}) was refused by the address policy: ${f.policy}; HAProxy keeps what it has for --hold-nx, then the servers leave. Fix the records, or allow the pod network with --allow-net <cidr>`;
    case 'haproxy-unreachable':
      return f.detail;
    case 'haproxy-unreadable':
      return `HAProxy socket ${f.socket}: a reply could not be read (${f.detail}); nothing was changed, the next run reads again`;
    case 'haproxy-stopping':
      return `HAProxy socket ${f.socket}: answered by a stopping process (pid ${String(f.pid)}); retrying`;
    case 'apply-failed':
      return `HAProxy socket ${f.socket}: sending commands failed (${f.detail}); the next pass repairs what did not apply`;
    case 'no-answer-yet':
      return `backend ${f.backend}: no DNS answer yet; HAProxy left as it is`;
    case 'backend-missing':
      return f.firstContact
        ? `backend ${f.backend} not found in HAProxy at ${f.socket}: expected a backend of that name in haproxy.cfg (check the --backend spelling)`
        : `backend ${f.backend} not found in HAProxy at ${f.socket}`;
    case 'slots-without-address':
      return `backend ${f.backend}: servers ${f.servers.join(',')} have no IP address, which "set server addr" cannot change: declare the slots with an address and their options on the server-template line: an IP literal, e.g. "${slotHint('')}", or a name and the address to start from, which a server-state-file reload restores, e.g. "${namedSlotHint}" (not "init-addr none"; HAProxy 3.5-dev also leaves slots without an address when a default-server line precedes them)`;
    case 'slots-resolved-by-haproxy':
      return `backend ${f.backend}: servers ${namesOf(f.servers)} are filled by HAProxy's own resolver from ${f.record}: it and the agent would overwrite each other's addresses. Declare the slots the agent fills without "resolvers" and without an SRV record, e.g. "${namedSlotHint}"`;
    case 'restored-without-address':
      return `backend ${f.backend}: the new HAProxy process started with servers ${namesOf(f.servers)} ready on an address DNS does not give (${f.example}), and served it until the agent set them: a server-state-file gives a slot declared with an IP literal its port and state but not its address, and a slot declared without "disabled" starts ready on its placeholder. Declare the slots "disabled" and with a name, whose address the state file restores: "${namedSlotHint}"`;
    case 'no-managed-servers':
      return `backend ${f.backend} has no servers${f.prefix === '' ? '' : ` named ${f.prefix}<N>, as "server-template ${f.prefix} ..." names its slots`}: expected slots such as "${slotHint(f.prefix)}"`;
    case 'version-unsupported':
      return `HAProxy at ${f.socket} is version ${f.version}: expected 1.8 or later (the agent needs srv_port in "show servers state")`;
    case 'not-admin':
      return f.command === null
        ? `HAProxy socket ${f.socket} is not "level admin" (it answered "Permission denied" or a lower level): expected "stats socket ... level admin" in haproxy.cfg`
        : `HAProxy socket ${f.socket} answered "Permission denied" to "${f.command}": expected "stats socket ... level admin" in haproxy.cfg`;
    case 'layout-differs':
      return 'show servers state has another layout than this HAProxy version prints; reading it by its header';
    case 'static-weights':
      return 'backend uses a static algorithm that only takes weights 0% and 100%: leaving weights alone (--weights ignore)';
    case 'not-sticky':
      return `sticky sessions will not follow pods: add "dynamic-cookie-key <secret>" and "cookie SRVID insert dynamic" to backend ${f.backend}`;
    case 'cookies-without-http':
      return `backend ${f.backend} is in ${f.mode} mode, where HAProxy ignores cookies: sticky sessions will not work until the backend (or defaults) says "mode http"`;
    case 'old-version':
      return f.maintBroken
        ? `HAProxy ${f.version} does not take a server down on "set server ... state maint" (fixed in 1.8.2), so sticky clients keep reaching a pod that left, and starts in time quadratic in the slots with dynamic cookies (fixed in 1.8.4): upgrade to 1.8.4 or later, the oldest release the agent recommends`
        : `HAProxy ${f.version} starts in time quadratic in the slots with dynamic cookies (over a minute for 1000 slots; fixed in 1.8.4): upgrade to 1.8.4 or later, the oldest release the agent recommends`;
    case 'dynamic-unsupported':
      return `--dynamic-servers has no effect on HAProxy ${f.version} (${f.reason}): endpoints beyond the slots get none`;
    case 'added-unchecked':
      return `servers added on HAProxy ${f.version} get no health checks ("add server" takes "check" from 2.5 on): a pod that fails keeps its traffic until it leaves DNS`;
    case 'added-without-cookie':
      return `servers added to backend ${f.backend} get no sticky cookie on HAProxy ${f.version} (3.0 gives them their dynamic cookie): their clients are not sticky`;
    case 'cookie-key-differs':
      return "--cookie-key differs from the backend's dynamic-cookie-key: the cookies shown in --dry-run will not be HAProxy's";
    case 'endpoints-without-slot':
      return `backend ${f.backend}: ${countOf(f.count, 'endpoint')} without a server slot (add slots to the server-template)`;
    case 'servers-capped':
      return `backend ${f.backend}: ${countOf(f.endpoints, 'endpoint')} get no server: slots and added servers together reached --max-endpoints ${String(f.max)} (raise it; servers draining count until they leave)`;
    case 'endpoints-unused':
      return 'endpoints of a less preferred SRV priority are unused: the backend has no backup slots';
    case 'drain-cut':
      return 'no free slot: cutting the longest drain short for a new endpoint';
    case 'command-rejected':
      return `HAProxy socket ${f.socket} rejected "${f.command}": ${f.reply}`;
    case 'not-taken':
      return `backend ${f.backend}: servers ${f.servers.join(',')} did not take the change; the next pass tries again`;
  }
}

/** "1 endpoint", "2 endpoints". */
export const countOf = (n: number, noun: string): string => `${String(n)} ${noun}${n === 1 ? '' : 's'}`;
