import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.ts';
import { parseConfig } from './config.ts';
import { envName, FLAGS, helpText } from './flags.ts';

const SRV = '_http._tcp.web.default.svc.cluster.local';
const parse = (argv: string[], env: Record<string, string> = {}) => parseConfig(argv, env).config;

describe('parseConfig', () => {
  it('applies the documented defaults', () => {
    expect(parse(['--backend', `be_app=${SRV}`])).toMatchObject({
      sockets: [{ kind: 'unix', path: '/var/run/haproxy/admin.sock' }],
      backends: [{ backend: 'be_app', prefix: '', id: 'be_app', record: { kind: 'srv', name: SRV } }],
      nameservers: null,
      intervalMs: 1_000,
      holdMs: 600_000,
      holdNxMs: 30_000,
      drainMs: 30_000,
      weights: 'srv',
      once: false,
      dryRun: false,
      logLevel: 'info',
      listen: null,
    });
  });

  it('reads every kind of value', () => {
    const c = parse([
      '--backend',
      'be_app/web=web.default.svc:8080',
      '--backend',
      'be6=[fd00::5]:80',
      '--socket',
      '/run/a.sock',
      '--socket',
      '127.0.0.1:9999',
      '--nameserver',
      '10.96.0.10',
      '--nameserver',
      '[fd00::10]:5353',
      '--interval',
      '500ms',
      '--once',
      '--dry-run',
      '--listen',
      ':8080',
      '--weights',
      'ignore',
      '--drain',
      '0',
    ]);
    expect(c?.backends.map((b) => [b.id, b.record])).toEqual([
      ['be_app/web', { kind: 'host', host: 'web.default.svc', port: 8080 }],
      ['be6', { kind: 'host', host: 'fd00::5', port: 80 }],
    ]);
    expect(c?.sockets).toEqual([
      { kind: 'unix', path: '/run/a.sock' },
      { kind: 'tcp', host: '127.0.0.1', port: 9999 },
    ]);
    expect(c?.nameservers).toEqual([
      { host: '10.96.0.10', port: 53 },
      { host: 'fd00::10', port: 5353 },
    ]);
    expect(c).toMatchObject({
      intervalMs: 500,
      once: true,
      dryRun: true,
      listen: { host: '0.0.0.0', port: 8080 },
      weights: 'ignore',
      drainMs: 0,
    });
  });

  it('lets two records feed one backend through prefixes whose servers differ', () => {
    expect(parse(['--backend', `be/blue=${SRV}`, '--backend', 'be/green=green.svc:80'])?.backends.map((b) => b.id)).toEqual([
      'be/blue',
      'be/green',
    ]);
    // Slots are <prefix><N>: web1, web2 ... and webx1, webx2 ... are not the same servers.
    expect(parse(['--backend', `be/web=${SRV}`, '--backend', `be/webx=${SRV}`])?.backends.map((b) => b.id)).toEqual(['be/web', 'be/webx']);
  });

  it('takes every flag from its environment variable, and the flag wins', () => {
    const env = { HAPROXY_DNS_AGENT_BACKEND: `a=${SRV},b=${SRV}`, HAPROXY_DNS_AGENT_INTERVAL: '2s', HAPROXY_DNS_AGENT_ONCE: 'true' };
    expect(parse([], env)).toMatchObject({ intervalMs: 2_000, once: true });
    expect(parse([], env)?.backends.map((b) => b.id)).toEqual(['a', 'b']);
    expect(parse(['--interval', '3s'], env)?.intervalMs).toBe(3_000);
  });

  it('names each flag in the help and gives it one variable', () => {
    const help = helpText('0.0.0');
    for (const f of FLAGS) expect(help).toContain(`--${f.name}`);
    expect(envName('dry-run')).toBe('HAPROXY_DNS_AGENT_DRY_RUN');
  });

  it.each([
    [[], /no backend given: expected --backend/],
    [['--backend', `be=${SRV}`, '--frobnicate'], /^unknown flag --frobnicate \(the nearest known one is --\S+; see --help\)$/],
    [['--backend', `be=${SRV}`, '--alow-net', '10.0.0.0/8'], /^unknown flag --alow-net \(did you mean --allow-net\?\)$/],
    [['--backend'], /flag --backend needs a value/],
    [['--backend', SRV], /expected <backend>\[\/<prefix>\]=<SRV name or host:port>/],
    [['--backend', `be;x=${SRV}`], /not a valid HAProxy name/],
    [['--backend', 'be=web:0'], /port 0 out of range/],
    [['--backend', 'be=bad name'], /is not a DNS name/],
    [['--backend', `be=${SRV}`, '--backend', `be=${SRV}`], /given twice/],
    [['--backend', `be=${SRV}`, '--backend', `be/web=${SRV}`], /would both manage server "web1"/],
    [['--backend', `be/web=${SRV}`, '--backend', `be/web1=${SRV}`], /be\/web and be\/web1 would both manage server "web11"/],
    [['--backend', `be/web=${SRV}`, '--backend', `be/web-a=${SRV}`], /would both manage server "web-a1"/],
    [['--backend', `be=${SRV}`, '--interval', '5'], /--interval "5": expected a duration such as 500ms/],
    [['--backend', `be=${SRV}`, '--interval', '10ms'], /expected at least 100ms/],
    [['--backend', `be=${SRV}`, '--nameserver', 'dns.local'], /--nameserver "dns.local": expected an IP address/],
    [['--backend', `be=${SRV}`, '--nameserver', '10.0.0.1:99999'], /expected an IP address/],
    [['--backend', `be=${SRV}`, '--socket', 'localhost'], /expected a UNIX socket path/],
    [['--backend', `be=${SRV}`, '--weights', 'max'], /expected srv or ignore/],
    [['--backend', `be=${SRV}`, '--log-level', 'loud'], /expected one of trace/],
    [['--backend', `be=${SRV}`, '--listen', '8080'], /expected host:port/],
    [['--backend', `be=${SRV}`, '--log-format', 'xml'], /^--log-format "xml": expected json or text$/],
  ])('refuses %j with one line naming what was expected', (argv, message) => {
    let err: unknown;
    try {
      parse(argv);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('reports every usage error at once, one line each', () => {
    let err: unknown;
    try {
      parse(['--backend', `be=${SRV}`, '--interval', 'fast', '--weights', 'max', '--nameserver', 'dns.local', '--drain', 'soon']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message.split('\n')).toEqual([
      '--nameserver "dns.local": expected an IP address, optionally with :port (10.96.0.10, 10.96.0.10:53, [fd00::10]:53)',
      '--weights "max": expected srv or ignore',
      '--interval "fast": expected a duration such as 500ms, 1s, 30s, 2m or 1h',
      '--drain "soon": expected a duration such as 500ms, 1s, 30s, 2m or 1h',
    ]);
  });

  it('takes --max-endpoints as a whole number of at least 1, 4096 by default', () => {
    expect(parse(['--backend', `be=${SRV}`])?.maxEndpoints).toBe(4096);
    expect(parse(['--backend', `be=${SRV}`, '--max-endpoints', '1'])?.maxEndpoints).toBe(1);
    expect(parse(['--backend', `be=${SRV}`], { HAPROXY_DNS_AGENT_MAX_ENDPOINTS: '20000' })?.maxEndpoints).toBe(20_000);
    for (const bad of ['0', '-5', '1.5', 'many', '1e3', '2000000']) {
      expect(() => parse(['--backend', `be=${SRV}`, `--max-endpoints=${bad}`])).toThrow(
        new UsageError(`--max-endpoints ${JSON.stringify(bad)}: expected a whole number from 1 to 1000000`),
      );
    }
  });

  it('takes -h for --help', () => {
    expect(parseConfig(['-h'], {}).help).toBe(true);
  });

  it('reads --help and --version from the command line only: a variable for them is refused, not taken', () => {
    const env = { HAPROXY_DNS_AGENT_HELP: '1', HAPROXY_DNS_AGENT_VERSION: 'true' };
    expect(() => parseConfig(['--backend', `be=${SRV}`], env)).toThrow(
      new UsageError(
        [
          'HAPROXY_DNS_AGENT_HELP: --help is read from the command line only: expected no such variable',
          'HAPROXY_DNS_AGENT_VERSION: --version is read from the command line only: expected no such variable',
        ].join('\n'),
      ),
    );
    expect(parseConfig(['--help'], env).help).toBe(true);
  });

  it('takes each minimum from the flag table, and says it', () => {
    for (const f of FLAGS.filter((x) => x.arg === '<duration>' && x.min !== undefined)) {
      const below = `${String((f.min ?? 0) - 1)}ms`;
      expect(() => parse(['--backend', `be=${SRV}`, `--${f.name}`, below]), f.name).toThrow(
        new RegExp(`^--${f.name} "${below}": expected `),
      );
      expect(helpText('0.0.0')).toContain(`least ${String(f.min)}ms`);
    }
    expect(parse(['--backend', `be=${SRV}`, '--watch', '0'])?.watchMs).toBe(0);
  });

  it('refuses a boolean variable that is not one', () => {
    expect(() => parse([`--backend`, `be=${SRV}`], { HAPROXY_DNS_AGENT_ONCE: 'maybe' })).toThrow(
      /HAPROXY_DNS_AGENT_ONCE="maybe": expected true or false/,
    );
  });

  it.each([
    ['HAPROXY_DNS_AGENT_ALLOW_NETS', 'unknown variable HAPROXY_DNS_AGENT_ALLOW_NETS (did you mean HAPROXY_DNS_AGENT_ALLOW_NET?)'],
    [
      'HAPROXY_DNS_AGENT_DYNAMIC_SERVER',
      'unknown variable HAPROXY_DNS_AGENT_DYNAMIC_SERVER (did you mean HAPROXY_DNS_AGENT_DYNAMIC_SERVERS?)',
    ],
    [
      'haproxy_dns_agent_allow_net',
      'unknown variable haproxy_dns_agent_allow_net (did you mean HAPROXY_DNS_AGENT_ALLOW_NET? variable names are upper case)',
    ],
    ['Haproxy_Dns_Agent_Intervall', 'unknown variable Haproxy_Dns_Agent_Intervall (did you mean HAPROXY_DNS_AGENT_INTERVAL?)'],
    [
      'HAPROXY_DNS_AGENT_FROBNICATE_EVERYTHING',
      /^unknown variable HAPROXY_DNS_AGENT_FROBNICATE_EVERYTHING \(the nearest known one is HAPROXY_DNS_AGENT_[A-Z_]+; see --help\)$/,
    ],
  ])('refuses the variable %s, which no flag has, naming the nearest one', (name, message) => {
    expect(() => parse(['--backend', `be=${SRV}`], { [name]: '10.0.0.0/8' })).toThrow(message);
    let err: unknown;
    try {
      parse(['--backend', `be=${SRV}`], { [name]: '10.0.0.0/8' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).not.toContain('\n');
  });

  it("takes the variables Kubernetes gives a pod for a Service named haproxy-dns-agent, and the agent's own", () => {
    const links = {
      HAPROXY_DNS_AGENT_SERVICE_HOST: '10.96.0.20',
      HAPROXY_DNS_AGENT_SERVICE_PORT: '9090',
      HAPROXY_DNS_AGENT_SERVICE_PORT_METRICS: '9090',
      HAPROXY_DNS_AGENT_PORT: 'tcp://10.96.0.20:9090',
      HAPROXY_DNS_AGENT_PORT_9090_TCP: 'tcp://10.96.0.20:9090',
      HAPROXY_DNS_AGENT_PORT_9090_TCP_PROTO: 'tcp',
      HAPROXY_DNS_AGENT_PORT_9090_TCP_PORT: '9090',
      HAPROXY_DNS_AGENT_PORT_9090_TCP_ADDR: '10.96.0.20',
      OTHER_VARIABLE: 'x',
    };
    const env = Object.fromEntries(FLAGS.filter((f) => f.argvOnly !== true).map((f) => [envName(f.name), '']));
    expect(parse([], { ...env, ...links, HAPROXY_DNS_AGENT_BACKEND: `be=${SRV}` })?.backends).toHaveLength(1);
  });

  it('names the variable, not the flag, when the bad value came from a variable', () => {
    const problems = (env: Record<string, string>): string[] => {
      try {
        parse([], { HAPROXY_DNS_AGENT_BACKEND: `be=${SRV}`, ...env });
      } catch (e) {
        return (e as Error).message.split('\n');
      }
      return [];
    };
    expect(problems({ HAPROXY_DNS_AGENT_INTERVAL: '5' })).toEqual([
      'HAPROXY_DNS_AGENT_INTERVAL="5": expected a duration such as 500ms, 1s, 30s, 2m or 1h',
    ]);
    expect(problems({ HAPROXY_DNS_AGENT_HOLD: '10ms', HAPROXY_DNS_AGENT_WATCH: '10ms', HAPROXY_DNS_AGENT_DNS_TIMEOUT: '1ms' })).toEqual([
      'HAPROXY_DNS_AGENT_WATCH="10ms": expected 0 (off) or at least 50ms',
      'HAPROXY_DNS_AGENT_DNS_TIMEOUT="1ms": expected at least 10ms',
    ]);
    expect(
      problems({
        HAPROXY_DNS_AGENT_WEIGHTS: 'max',
        HAPROXY_DNS_AGENT_LOG_LEVEL: 'loud',
        HAPROXY_DNS_AGENT_LOG_FORMAT: 'xml',
        HAPROXY_DNS_AGENT_MAX_ENDPOINTS: '0',
        HAPROXY_DNS_AGENT_LISTEN: '8080',
      }),
    ).toEqual([
      'HAPROXY_DNS_AGENT_WEIGHTS="max": expected srv or ignore',
      'HAPROXY_DNS_AGENT_LOG_LEVEL="loud": expected one of trace, debug, info, warn, error, fatal, silent',
      'HAPROXY_DNS_AGENT_LOG_FORMAT="xml": expected json or text',
      'HAPROXY_DNS_AGENT_LISTEN="8080": expected host:port, e.g. 0.0.0.0:8080 or :8080',
      'HAPROXY_DNS_AGENT_MAX_ENDPOINTS="0": expected a whole number from 1 to 1000000',
    ]);
    // A list: one item names the variable's value; among several, the item.
    expect(problems({ HAPROXY_DNS_AGENT_ALLOW_NET: '10.0.0.0/33' })).toEqual([
      'HAPROXY_DNS_AGENT_ALLOW_NET="10.0.0.0/33": expected a network such as 10.244.0.0/16, fd00::/8 or 127.0.0.0/8',
    ]);
    expect(problems({ HAPROXY_DNS_AGENT_SOCKET: '/run/a.sock,localhost', HAPROXY_DNS_AGENT_NAMESERVER: 'dns.local' })).toEqual([
      'HAPROXY_DNS_AGENT_NAMESERVER="dns.local": expected an IP address, optionally with :port (10.96.0.10, 10.96.0.10:53, [fd00::10]:53)',
      'HAPROXY_DNS_AGENT_SOCKET item "localhost": expected a UNIX socket path (containing \'/\') or host:port of a TCP stats socket',
    ]);
    expect(problems({ HAPROXY_DNS_AGENT_BACKEND: `be=${SRV},be;x=${SRV},be=${SRV}` })).toEqual([
      `HAPROXY_DNS_AGENT_BACKEND item "be;x=${SRV}": backend name "be;x" is not a valid HAProxy name (letters, digits, '-', '_', '.', ':')`,
      'HAPROXY_DNS_AGENT_BACKEND be given twice: expected each backend (and prefix) once',
    ]);
  });

  it('takes --log-format json (the default) or text, from the flag or its variable', () => {
    expect(parse(['--backend', `be=${SRV}`])?.logFormat).toBe('json');
    expect(parse(['--backend', `be=${SRV}`, '--log-format', 'text'])?.logFormat).toBe('text');
    expect(parse(['--backend', `be=${SRV}`], { HAPROXY_DNS_AGENT_LOG_FORMAT: 'text' })?.logFormat).toBe('text');
  });

  it('takes --server-state-file from the flag or its variable, off by default; refuses an empty path and the --state-file path', () => {
    expect(parse(['--backend', `be=${SRV}`])?.serverStateFile).toBeNull();
    expect(parse(['--backend', `be=${SRV}`, '--server-state-file', '/run/haproxy/server-state'])?.serverStateFile).toBe(
      '/run/haproxy/server-state',
    );
    expect(parse(['--backend', `be=${SRV}`], { HAPROXY_DNS_AGENT_SERVER_STATE_FILE: '/run/haproxy/server-state' })?.serverStateFile).toBe(
      '/run/haproxy/server-state',
    );
    expect(() => parse(['--backend', `be=${SRV}`, '--server-state-file='])).toThrow(
      new UsageError('--server-state-file "": expected a path'),
    );
    expect(() =>
      parse(['--backend', `be=${SRV}`, '--state-file', '/run/haproxy/agent.state'], {
        HAPROXY_DNS_AGENT_SERVER_STATE_FILE: '/run/haproxy/agent.state',
      }),
    ).toThrow(
      new UsageError(
        'HAPROXY_DNS_AGENT_SERVER_STATE_FILE="/run/haproxy/agent.state": the same path as --state-file; expected another file (HAProxy\'s server-state-file, not the agent\'s own state)',
      ),
    );
  });
});
