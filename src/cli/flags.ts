import { SIGNALS_HELP } from './signals.ts';

/**
 * Every flag: its name, argument, default, minimum and text. The one source of --help, of
 * the flag table of docs/flags.md (`npm run docs` writes it; a test compares them word for
 * word), of the environment variables (envName) and of the minimums config.ts checks.
 */
export type Flag = Readonly<{
  name: string;
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** A one-letter alias (-h). */
  short?: string;
  arg?: string;
  default?: string;
  /** The default as the flag table says it, when it is not a literal value. */
  shown?: string;
  /** The least value taken: milliseconds for a duration, else a count. */
  min?: number;
  /** 0 is taken too, and turns the feature off (--watch). */
  zeroOff?: boolean;
  /** --help and --version: read from the command line only, never from the environment. */
  argvOnly?: boolean;
  /** Markdown: docs/flags.md shows it as it is, --help without the marks. */
  help: string;
}>;

export const FLAGS: readonly Flag[] = [
  {
    name: 'socket',
    type: 'string',
    multiple: true,
    arg: '<path|host:port>',
    default: '/var/run/haproxy/admin.sock',
    help: 'HAProxy admin socket (level admin): a UNIX path, or host:port of a TCP stats socket. Repeat for one socket per process (1.8 `nbproc`); every socket gets the same endpoints.',
  },
  {
    name: 'master-socket',
    type: 'string',
    arg: '<path|host:port>',
    shown: 'off',
    help: "HAProxy's master CLI (`haproxy -W -S <path>`). The agent holds one idle connection to it, which the master closes when it reloads: every `--socket` is then asked for its new worker at once, every 20 ms for up to 5 s, instead of at the next `--interval`. A reload under `-W` hands the stats socket to the new worker and changes nothing on disk; other reloads are seen when the socket file is replaced.",
  },
  {
    name: 'backend',
    type: 'string',
    multiple: true,
    arg: '<name>[/<prefix>]=<record>',
    shown: '(required)',
    help: 'A backend to fill and the DNS name that feeds it; repeatable. `<record>` is an SRV name, or `host:port` for A/AAAA records.',
  },
  {
    name: 'nameserver',
    type: 'string',
    multiple: true,
    arg: '<ip[:port]>',
    shown: 'resolv.conf',
    help: 'DNS server to ask; repeatable, tried in turn; the last one that answered is asked first.',
  },
  {
    name: 'allow-net',
    type: 'string',
    multiple: true,
    arg: '<cidr>',
    help: 'Only endpoints inside these networks become servers (your pod network); repeatable. Loopback is refused unless allowed here; unspecified, broadcast, multicast, link-local and `240.0.0.0/4` always. See [Security](#security).',
  },
  {
    name: 'interval',
    type: 'string',
    arg: '<duration>',
    default: '1s',
    min: 100,
    help: 'Time between runs of each lane (`500ms`, `1s`, `2m`), plus a random 0-10%.',
  },
  {
    name: 'watch',
    type: 'string',
    arg: '<duration>',
    default: '300ms',
    min: 50,
    zeroOff: true,
    help: "Between passes, ask each backend's zone serial (an SOA question, about 100 bytes over UDP) this often, and ask DNS again at once when it moves. BIND raises the serial with every change; CoreDNS's kubernetes plugin sets it to the time of the last change. It only hastens: `--interval` stays the bound.",
  },
  {
    name: 'serial-trust',
    type: 'string',
    arg: '<duration>',
    default: '30s',
    help: "How long an unchanged zone serial stands in for asking a backend's record again: a pass then asks the SOA alone (one UDP question) instead of the SRV and its targets' addresses. The serial is trusted only once the agent has seen it move, from an authoritative answer whose zone holds every SRV target, and only from `TTL + 2 s` after it last moved (CoreDNS's serial is a second; a cache may serve older records). Every `--serial-trust` the record is asked again; a serial that stood still while the records changed is never trusted again. `0`: ask every pass.",
  },
  {
    name: 'respect-ttl',
    type: 'boolean',
    help: "Poll sooner than `--interval` when the records' TTL is shorter (never more often than every 250 ms).",
  },
  {
    name: 'once',
    type: 'boolean',
    help: 'One pass, then exit: 0 when HAProxy matches DNS, 1 on failure. Each problem is said once, as a plain `haproxy-dns-agent: ...` line on stderr (not also as a JSON log line).',
  },
  {
    name: 'dry-run',
    type: 'boolean',
    help: 'Print every command, one per line, exactly as it would be sent, and send none.',
  },
  {
    name: 'hold',
    type: 'string',
    arg: '<duration>',
    default: '600s',
    help: 'While DNS fails (timeout, SERVFAIL, REFUSED, unreachable, malformed), the last good answer stays in force this long.',
  },
  {
    name: 'hold-nx',
    type: 'string',
    arg: '<duration>',
    default: '30s',
    help: 'When the name does not exist or has no records, the last good answer stays in force this long, counted from the first such answer (an outage before it does not count); then the servers leave.',
  },
  {
    name: 'drain',
    type: 'string',
    arg: '<duration>',
    default: '30s',
    help: 'A server whose endpoint left DNS drains this long, then goes to maint. `0`: straight to maint.',
  },
  {
    name: 'dynamic-servers',
    type: 'boolean',
    help: 'When endpoints outnumber the free slots, add servers (HAProxy 2.4.1+): active ones for the preferred SRV priority, `backup` ones for the others; delete them once their pod left and drained. See [Slots and dynamic servers](#slots-and-dynamic-servers).',
  },
  {
    name: 'max-endpoints',
    type: 'string',
    arg: '<n>',
    default: '4096',
    min: 1,
    help: 'The most endpoints a backend takes from one DNS answer (or from the answer `--state-file` saved; an SRV target gives at most 64 addresses): those in force keep their places, and newcomers fill the room left by SRV priority, then weight, then target and address; what is left out is logged once and counted (`haproxy_dns_agent_endpoints_dropped`). With `--dynamic-servers`, also the most servers, slots and added ones together, a backend is given: until then an endpoint with no free slot gets a server of its own rather than a draining slot.',
  },
  {
    name: 'state-file',
    type: 'string',
    arg: '<path>',
    help: "Keep each backend's last good answer (with its time) and every running drain's start here, written atomically when they change (and every tenth of `--hold` to refresh the answers' time). Read at start: a saved answer is in force within `--hold` of its time until DNS answers; a running drain keeps its clock. A corrupt or foreign file is a warning; a missing one (the first start) is not. One line of JSON, about 80 bytes an endpoint for a Kubernetes pod (180 in the indented format 1 of earlier versions, still read), and a second copy while it is written: 1 MiB holds some 6,500 endpoints. The folder may be shared (see [Security](#security)): a link, FIFO, device or folder at the path, a file larger than the agent can have written, or a time more than 60 s ahead of the clock is refused with a warning.",
  },
  {
    name: 'server-state-file',
    type: 'string',
    arg: '<path>',
    help: "Keep HAProxy's own `show servers state` here (every backend: the file its `server-state-file` loads, as the usual reload script writes it), replaced atomically after each run that sent HAProxy commands or met a new process, at each socket's first run, and when the file is missing; nothing more is read from HAProxy at rest. A reload, even a bare `SIGUSR2` to a `-W` master with no script, then starts with the slots filled, when haproxy.cfg has `server-state-file <path>`, `load-server-state-from-file global` and slots declared with a name (`server-template srv 10 slot.invalid:9 init-addr last,127.0.0.1 check disabled`). What the agent did not change since its last write (a weight set by hand, a health check's verdict, another backend) is in the file from its next write. Written 0640, for HAProxy to read through the folder's group. With several `--socket`, one file: each backend from the first socket that shows it. A dump over 8 MiB, something other than a regular file at the path, or a write that fails is a warning (said once per change) and leaves the file as it was; tried again at the next change, or after 10 intervals. `--dry-run` writes nothing.",
  },
  {
    name: 'weights',
    type: 'string',
    arg: '<srv|ignore>',
    default: 'srv',
    help: '`srv`: SRV weights mapped proportionally onto 1..256; `ignore`: leave weights alone.',
  },
  {
    name: 'cookie-key',
    type: 'string',
    arg: '<key>',
    help: "The backend's `dynamic-cookie-key`, to show each server's cookie in `--dry-run`. Never logged.",
  },
  {
    name: 'listen',
    type: 'string',
    arg: '<host:port>',
    shown: 'off',
    help: 'Serve `/healthz`, `/readyz`, `/metrics` (see [Probes](#probes)) and why each pod gets traffic or not, `/status` and `/status.json` (see [Status page](#status-page)): GET or HEAD, one request a connection. At most 64 connections at once (a new one past that closes the oldest still sending its request); a request head must be whole within 5 s of the connection and 8 KiB, or the connection is closed unanswered. An address that cannot be listened on (in use, a port below 1024 without the capability) ends the agent with one line, exit 1.',
  },
  {
    name: 'dns-timeout',
    type: 'string',
    arg: '<duration>',
    shown: 'resolv.conf, else `5s`',
    min: 10,
    help: 'How long one DNS question may take before it counts as failed (see [Slow or busy DNS servers](#slow-or-busy-dns-servers)), from the first question on. A server whose answers were seen to take longer stretches it, to three times at most (and 20 s unless it is longer), never past `--hold`; all the questions of one run (search list, CNAMEs, targets) end within twice that, 30 s at most unless the timeout is longer.',
  },
  {
    name: 'socket-timeout',
    type: 'string',
    arg: '<duration>',
    default: '5s',
    min: 10,
    help: 'Deadline for one exchange on the HAProxy socket.',
  },
  {
    name: 'resolv-conf',
    type: 'string',
    arg: '<path>',
    default: '/etc/resolv.conf',
    help: 'Where nameservers, `search`, `ndots`, `timeout` and `attempts` come from.',
  },
  {
    name: 'log-level',
    type: 'string',
    arg: '<level>',
    default: 'info',
    help: 'trace, debug, info, warn, error, fatal or silent.',
  },
  {
    name: 'log-format',
    type: 'string',
    arg: '<json|text>',
    default: 'json',
    help: '`json`: one JSON object a line, the level as a name (`"level":"info"`), for a log pipeline. `text`: one line an event for a person at a terminal: the time (UTC), the level, the message, then the fields as `key=value`; a value with a space or a backslash, or that starts with a quote, is quoted, and anything outside printable ASCII is escaped (`\\n`, `\\u001b`), so nothing from DNS can start a line or reach the terminal as a control.',
  },
  { name: 'help', type: 'boolean', short: 'h', argvOnly: true, help: 'Show the help.' },
  { name: 'version', type: 'boolean', argvOnly: true, help: 'Show the version.' },
];

/** `--dry-run` <-> HAPROXY_DNS_AGENT_DRY_RUN: the one naming rule for every flag. */
export const envName = (flag: string): string => `HAPROXY_DNS_AGENT_${flag.toUpperCase().replaceAll('-', '_')}`;

/** The flag named `name` (a name from FLAGS: a typo is a programming error). */
export function flag(name: string): Flag {
  const f = FLAGS.find((x) => x.name === name);
  if (f === undefined) throw new TypeError(`no flag --${name}`);
  return f;
}

/** The minimum as a sentence, for the flag table and --help. */
function minText(f: Flag): string {
  if (f.min === undefined) return '';
  const least = f.arg === '<duration>' ? `${String(f.min)}ms` : String(f.min);
  return f.zeroOff === true ? ` \`0\` or at least ${least}.` : ` At least ${least}.`;
}

/** Markdown as plain text: no backticks, links as their text. */
const plain = (md: string): string => md.replaceAll('`', '').replace(/\[([^\]]+)\]\([^)]*\)/g, '$1');

/** Where the flag table of docs/flags.md starts and ends (scripts/readme-flags.ts writes between them). */
export const README_FLAGS_START = '<!-- flags: written by `npm run docs` from src/cli/flags.ts -->';
export const README_FLAGS_END = '<!-- /flags -->';

/** The flag table, row for row (scripts/flags-doc.ts points its links into docs/). */
export function flagsTable(): string {
  const rows = FLAGS.map((f) => {
    const head = `--${f.name}${f.arg === undefined ? '' : ` ${f.arg}`}`.replaceAll('|', '\\|');
    const short = f.short === undefined ? '' : ` (\`-${f.short}\`)`;
    const def =
      f.shown ?? (f.default !== undefined ? `\`${f.default}\`` : f.argvOnly === true ? '' : f.type === 'boolean' ? 'off' : 'none');
    return `| \`${head}\`${short} | ${def} | ${f.help}${minText(f)} |`;
  });
  return ['| Flag | Default | What it does |', '|---|---|---|', ...rows].join('\n');
}

/** The --help text, built from FLAGS. */
export function helpText(version: string): string {
  const lines = [
    `haproxy-dns-agent ${version}: fills HAProxy server-template slots from DNS (SRV or A/AAAA), over the runtime API.`,
    '',
    'Usage: haproxy-dns-agent --backend <name>[/<prefix>]=<record> [--backend ...] [flags]',
    '',
    'The agent manages only the backends given, and in them only the slots a server-template',
    'makes of the prefix, <prefix><N> (every server without a prefix), and the servers it adds',
    'itself (--dynamic-servers). Slots must be declared with an address, e.g.',
    '  server-template srv 10 127.0.0.1:9 check disabled',
    'or, for a server-state-file reload to bring them back with their pods, with a name and the',
    'address to start from (no resolvers):',
    '  server-template srv 10 slot.invalid:9 init-addr last,127.0.0.1 check disabled',
    '',
    'Flags (every flag but --help and --version can also be set with an environment variable:',
    '--dry-run -> HAPROXY_DNS_AGENT_DRY_RUN; repeatable flags take a comma-separated list there;',
    'a flag wins over its variable):',
  ];
  for (const f of FLAGS) {
    const head = `  --${f.name}${f.arg === undefined ? '' : ` ${f.arg}`}${f.short === undefined ? '' : `, -${f.short}`}`;
    const def = f.default === undefined ? (f.shown === undefined ? '' : ` (default: ${plain(f.shown)})`) : ` (default ${f.default})`;
    lines.push(head, `      ${plain(f.help)}${plain(minText(f))}${def}`);
  }
  return [...lines, '', ...SIGNALS_HELP, 'Exit codes: 0 done (or --once: HAProxy matches DNS), 1 failure, 2 usage error.'].join('\n');
}
