/** Every flag, its default and its help: the source of --help and of the README table. */
type Flag = Readonly<{
  name: string;
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** A one-letter alias (-h). */
  short?: string;
  arg?: string;
  default?: string;
  help: string;
}>;

export const FLAGS: readonly Flag[] = [
  {
    name: 'socket',
    type: 'string',
    multiple: true,
    arg: '<path|host:port>',
    default: '/var/run/haproxy/admin.sock',
    help: 'HAProxy admin socket (level admin): a UNIX path, or host:port of a TCP stats socket. Repeat for one socket per process (1.8 nbproc); every socket gets the same endpoints.',
  },
  {
    name: 'backend',
    type: 'string',
    multiple: true,
    arg: '<name>[/<prefix>]=<record>',
    help: 'A backend to fill and the DNS name that feeds it; repeatable. <record> is an SRV name, or host:port for A/AAAA records. With /<prefix>, only servers whose name starts with it are managed.',
  },
  {
    name: 'nameserver',
    type: 'string',
    multiple: true,
    arg: '<ip[:port]>',
    help: 'DNS server to ask; repeatable, tried in turn. Default: the nameservers in /etc/resolv.conf.',
  },
  {
    name: 'allow-net',
    type: 'string',
    multiple: true,
    arg: '<cidr>',
    help: 'Only endpoints inside these networks become servers (the pod network, e.g. 10.244.0.0/16); repeatable. Loopback is refused unless allowed here; unspecified, broadcast, multicast, link-local and 240.0.0.0/4 addresses are refused always.',
  },
  {
    name: 'interval',
    type: 'string',
    arg: '<duration>',
    default: '1s',
    help: "Time between passes (500ms, 1s, 2m), like HAProxy's `timeout resolve`; a random 0-10% is added so replicas do not query in lockstep.",
  },
  {
    name: 'watch',
    type: 'string',
    arg: '<duration>',
    default: '300ms',
    help: "Between passes, ask each backend's zone serial (SOA) this often, and ask DNS again at once when it moves: BIND and CoreDNS change it with every change. One small UDP question; 0 turns it off; --interval stays the bound.",
  },
  {
    name: 'serial-trust',
    type: 'string',
    arg: '<duration>',
    default: '30s',
    help: "How long an unchanged zone serial stands in for asking a backend's record again: a pass then asks the SOA alone. Only once the serial has been seen to move, from an authoritative answer, with every SRV target in the zone; 0: ask every pass.",
  },
  {
    name: 'respect-ttl',
    type: 'boolean',
    help: "Poll sooner than --interval when the records' TTL is shorter (never more often than every 250ms).",
  },
  {
    name: 'once',
    type: 'boolean',
    help: 'One pass, then exit: 0 when HAProxy matches DNS, 1 on failure; each problem is said once, as a plain line on stderr.',
  },
  {
    name: 'dry-run',
    type: 'boolean',
    help: 'Print every command, one per line, exactly as it would be sent, and send none. Without a reachable socket, print the endpoints DNS gave.',
  },
  {
    name: 'hold',
    type: 'string',
    arg: '<duration>',
    default: '600s',
    help: 'While the DNS server fails (timeout, SERVFAIL, REFUSED, unreachable, malformed), the last good answer stays in force this long.',
  },
  {
    name: 'hold-nx',
    type: 'string',
    arg: '<duration>',
    default: '30s',
    help: 'When the name does not exist or has no records, the last good answer stays in force this long; then the servers leave.',
  },
  {
    name: 'drain',
    type: 'string',
    arg: '<duration>',
    default: '30s',
    help: 'A server whose endpoint left DNS is set to drain (sticky clients only) this long, then to maint. 0: straight to maint.',
  },
  {
    name: 'dynamic-servers',
    type: 'boolean',
    help: 'When endpoints outnumber the free slots, add servers (HAProxy 2.4+; "add server"), named <prefix>-a<N>, and delete them once their pod has left and they drained. Slots are filled first. Added servers are lost on a reload; the agent adds them again. On 2.4-2.9 they get no sticky cookie (3.0 gives them one).',
  },
  {
    name: 'max-endpoints',
    type: 'string',
    arg: '<n>',
    default: '4096',
    help: 'The most endpoints a backend takes from one DNS answer, in SRV priority and weight order (what is left out is said once and counted), and with --dynamic-servers the most servers, slots and added ones together, it is given. An SRV target gives at most 64 addresses.',
  },
  {
    name: 'state-file',
    type: 'string',
    arg: '<path>',
    help: "Keep each backend's last good answer (with its time) and the start of every running drain here, written atomically when they change. Read at start: a saved answer is in force within --hold of its time until DNS answers, so a restart during a DNS outage does not empty HAProxy. A missing or unusable file is a warning. Put it beside the admin socket (the shared emptyDir).",
  },
  {
    name: 'weights',
    type: 'string',
    arg: '<srv|ignore>',
    default: 'srv',
    help: 'srv: SRV weights mapped proportionally onto 1..256 (heaviest = 256); ignore: leave the configured weights alone.',
  },
  {
    name: 'cookie-key',
    type: 'string',
    arg: '<key>',
    help: "The backend's dynamic-cookie-key, to print each server's cookie in --dry-run and check HAProxy's. Never logged.",
  },
  {
    name: 'listen',
    type: 'string',
    arg: '<host:port>',
    help: "Serve /healthz, /readyz and /metrics (Prometheus) here. Off unless given. /healthz fails when a lane (a backend's DNS, a socket) has finished no run for 3 x --interval + 12 x the longer of --socket-timeout and --dns-timeout (at least 60s); /readyz is 200 once every socket's HAProxy answers and has had every backend's DNS answer (records, NXDOMAIN, NODATA, refused endpoints, or a saved one) applied since it started; after that no DNS condition makes it fail.",
  },
  {
    name: 'dns-timeout',
    type: 'string',
    arg: '<duration>',
    help: "How long one DNS question may take before it counts as failed (its tries go out meanwhile, each waiting as the server's round trips say, at most --interval; a slower server stretches it, never past --hold). Default: resolv.conf's `options timeout`, else 5s (glibc's).",
  },
  { name: 'socket-timeout', type: 'string', arg: '<duration>', default: '5s', help: 'Deadline for one exchange on the HAProxy socket.' },
  {
    name: 'resolv-conf',
    type: 'string',
    arg: '<path>',
    default: '/etc/resolv.conf',
    help: 'Where to read nameserver, search, ndots, timeout and attempts from.',
  },
  {
    name: 'log-level',
    type: 'string',
    arg: '<level>',
    default: 'info',
    help: 'trace, debug, info, warn, error, fatal or silent. Logs are JSON lines on stderr.',
  },
  { name: 'help', type: 'boolean', short: 'h', help: 'Show this help.' },
  { name: 'version', type: 'boolean', help: 'Show the version.' },
];

/** `--dry-run` <-> HAPROXY_DNS_AGENT_DRY_RUN: the one naming rule for every flag. */
export const envName = (flag: string): string => `HAPROXY_DNS_AGENT_${flag.toUpperCase().replaceAll('-', '_')}`;

/** The --help text, built from FLAGS. */
export function helpText(version: string): string {
  const lines = [
    `haproxy-dns-agent ${version}: fills HAProxy server-template slots from DNS (SRV or A/AAAA), over the runtime API.`,
    '',
    'Usage: haproxy-dns-agent --backend <name>[/<prefix>]=<record> [--backend ...] [flags]',
    '',
    'The agent manages only the backends given, and in them only the servers whose name starts',
    'with the prefix (all servers without one). Slots must be declared with an IP literal, e.g.',
    '  server-template srv 10 127.0.0.1:9 check disabled',
    '',
    'Flags (every flag can also be set with an environment variable: --dry-run -> HAPROXY_DNS_AGENT_DRY_RUN;',
    'repeatable flags take a comma-separated list there; a flag wins over its variable):',
  ];
  for (const f of FLAGS) {
    const head = `  --${f.name}${f.arg === undefined ? '' : ` ${f.arg}`}`;
    const def = f.default === undefined ? '' : ` (default ${f.default})`;
    lines.push(head, `      ${f.help}${def}`);
  }
  lines.push(
    '',
    'Signals: SIGTERM or SIGINT stop the agent after the run in flight (exit 0); SIGHUP reads resolv.conf again.',
    'Exit codes: 0 done (or --once: HAProxy matches DNS), 1 failure, 2 usage error.',
  );
  return lines.join('\n');
}
