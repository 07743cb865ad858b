/**
 * Composition root: the only module that reads process.argv, process.env and files, owns
 * stdout/stderr, installs signal handlers and exits. Exit codes: 0 done, 1 failure,
 * 2 usage error; no signal the agent handles ends it with another.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { type Agent } from './agent/agent.ts';
import { buildAgent } from './agent/compose.ts';
import { liveness, readiness } from './agent/health.ts';
import { createLogger } from './agent/report.ts';
import { parseConfig } from './cli/config.ts';
import { helpText } from './cli/flags.ts';
import { signalsToIgnore, STOP_SIGNALS } from './cli/signals.ts';
import type { Config } from './config/model.ts';
import { findingText, isDnsFinding, severityOf } from './core/findings.ts';
import { printableText } from './core/names.ts';
import { maxStateBytes } from './core/saved-state.ts';
import { AgentError, UsageError } from './errors.ts';
import { startHttp } from './observability/http.ts';
import { readStateFile, removeLeftoverTemporaries, writeStateFile } from './state/file.ts';
import { serverStateFilePresent, writeServerStateFile } from './state/server-state.ts';
import type { AgentMetrics } from './observability/metrics.ts';
import type { Unsent } from './agent/writers.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Listens to `sig` in place of the bin's listener (src/main.ts holds the signals while
 * this module loads): added before that one is removed, so the signal never falls back to
 * its default action in between.
 */
function takeOver(sig: NodeJS.Signals, listener: () => void): void {
  const before = process.listeners(sig);
  process.on(sig, listener);
  for (const l of before) process.off(sig, l);
}

/** A second stop signal: batches stop between two lines, and the agent exits once none is being sent. */
const halt = new AbortController();

async function main(): Promise<number> {
  // Signals first: a SIGTERM during start-up must still end in a clean exit. What the
  // agent says of a signal waits for its logger; before it, a signal is acted on unsaid.
  const stop = new AbortController();
  let log: Logger | null = null;
  for (const sig of STOP_SIGNALS) {
    takeOver(sig, () => {
      if (!stop.signal.aborted) {
        stop.abort(sig);
        log?.info({ signal: sig }, 'stopping once the runs in flight end');
      } else if (!halt.signal.aborted) {
        halt.abort(sig);
        log?.warn({ signal: sig }, 'stopping now: the line being sent to HAProxy gets its answer, the rest is not sent');
      }
    });
  }
  // Node's own flags: a Node.js profiling the agent keeps SIGPROF for V8's sampler.
  for (const sig of signalsToIgnore([...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)])) {
    takeOver(sig, () => {
      log?.warn({ signal: sig }, 'signal ignored (SIGTERM, SIGINT or SIGQUIT stops the agent; SIGHUP reads resolv.conf again)');
    });
  }
  // SIGHUP reads resolv.conf again (its default action would kill the agent mid-apply).
  let onHangup = (): void => undefined;
  takeOver('SIGHUP', () => {
    onHangup();
  });
  const halted = new Promise<'halted'>((resolve) => {
    halt.signal.addEventListener('abort', () => {
      resolve('halted');
    });
  });

  const parsed = parseConfig(process.argv.slice(2), process.env);
  if (parsed.help) {
    process.stdout.write(`${helpText(VERSION)}\n`);
    return 0;
  }
  if (parsed.version || parsed.config === null) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const config = parsed.config;
  log = createLogger({ level: config.logLevel, format: config.logFormat });
  const readResolvConf = (): string | null => {
    try {
      return readFileSync(config.resolvConf, 'utf8');
    } catch {
      return null;
    }
  };
  const resolvConf = readResolvConf();
  // prom-client costs resident memory (docs/decisions/0003-prom-client-private-paths.md): loaded only when metrics are served.
  const metrics: AgentMetrics | null = config.listen === null ? null : new (await import('./observability/metrics.ts')).AgentMetrics();
  metrics?.describe({ version: VERSION, holdMs: config.holdMs });
  // A crash between writing the state file's temporary and renaming it leaves the temporary (a dry run changes nothing).
  if (config.stateFile !== null && !config.dryRun) removeLeftoverTemporaries(config.stateFile);
  if (config.serverStateFile !== null && !config.dryRun) removeLeftoverTemporaries(config.serverStateFile);
  const { agent, reloadResolvConf, unsent } = buildAgent(config, {
    log,
    halt: halt.signal,
    out: (l) => process.stdout.write(`${l}\n`),
    resolvConf,
    metrics,
    now: Date.now,
    ...(config.stateFile === null
      ? {}
      : {
          savedState: readStateFile(config.stateFile, maxStateBytes(config.backends.length, config.sockets.length, config.maxEndpoints)),
          writeState: (text: string) => {
            writeStateFile(config.stateFile ?? '', text);
          },
        }),
    ...(config.serverStateFile === null
      ? {}
      : {
          serverStateFile: {
            write: (text: string) => {
              writeServerStateFile(config.serverStateFile ?? '', text);
            },
            present: () => serverStateFilePresent(config.serverStateFile ?? ''),
          },
        }),
  });
  onHangup = () => {
    try {
      reloadResolvConf(readResolvConf());
      log.info({ resolvConf: config.resolvConf }, 'SIGHUP: read resolv.conf again');
    } catch (err) {
      log.warn(
        { resolvConf: config.resolvConf, err: err instanceof Error ? err.message : String(err) },
        'SIGHUP: resolv.conf not usable; keeping the DNS settings in force',
      );
    }
  };
  const startedAt = Date.now();
  // Listening before anything is said: an address in use ends the agent with that line alone.
  const server =
    config.once || config.listen === null || metrics === null
      ? null
      : await startHttp(config.listen.host, config.listen.port, metrics, {
          readiness: async () => readiness(await agent.checkedStatus(), config),
          liveness: () => liveness(agent.status(Date.now()), config, startedAt, Date.now()),
          status: () => agent.statusModel(Date.now()),
        });
  log.info({ version: VERSION, config: loggableConfig(config) }, 'starting');

  if (config.once) {
    const code = await Promise.race([runOnce(agent, config), halted]);
    return code === 'halted' ? haltedExit(log, await unsent()) : code;
  }

  try {
    // A stop during start-up: the agent's run would never hear of it.
    const ended = stop.signal.aborted
      ? 'stopped'
      : await Promise.race([
          agent
            .run(stop.signal, {
              intervalMs: config.intervalMs,
              respectTtl: config.respectTtl,
              watchMs: config.watchMs,
              random: Math.random,
            })
            .then(() => 'stopped' as const),
          halted,
        ]);
    if (ended === 'halted') return haltedExit(log, await unsent());
  } finally {
    server?.close();
  }
  log.info({ signal: String(stop.signal.reason) }, 'stopped; HAProxy left as it is');
  return 0;
}

/**
 * The exit after a second stop signal, once no batch is being sent: one line per socket
 * whose batch it cut short (exit 1), else the usual last line (exit 0).
 */
function haltedExit(log: Logger, left: readonly Unsent[]): number {
  if (left.length === 0) {
    log.info({ signal: String(halt.signal.reason) }, 'stopped; HAProxy left as it is');
    return 0;
  }
  for (const u of left) {
    const unanswered = u.unanswered === 0 ? '' : `, ${String(u.unanswered)} sent without an answer`;
    process.stderr.write(
      `haproxy-dns-agent: stopped by a second ${String(halt.signal.reason)}: HAProxy socket ${printableText(u.socket)}: ${String(u.notSent)} of ${String(u.of)} commands not sent${unanswered}; the next start sends what is still needed\n`,
    );
  }
  return 1;
}

async function runOnce(agent: Agent, config: Config): Promise<number> {
  const report = await agent.pass();
  const problems = report.findings.filter((f) => severityOf(f) !== 'warning');
  for (const p of problems) process.stderr.write(`haproxy-dns-agent: ${printableText(findingText(p))}\n`);
  if (config.dryRun && problems.some((f) => f.kind === 'haproxy-unreachable')) {
    // The dry-run writer printed the endpoints DNS gave instead: that part worked unless DNS failed.
    process.stderr.write('haproxy-dns-agent: could not read HAProxy; printed the endpoints DNS gave instead of commands\n');
    return problems.some(isDnsFinding) ? 1 : 0;
  }
  return report.ok ? 0 : 1;
}

function loggableConfig(c: Config): Record<string, unknown> {
  return { ...c, cookieKey: c.cookieKey === null ? null : '[redacted]' };
}

main().then(
  (code) => {
    process.exitCode = code;
    // After a second stop signal, the lanes still running are not waited for.
    if (halt.signal.aborted) process.exit();
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      for (const line of err.message.split('\n')) process.stderr.write(`haproxy-dns-agent: ${line}\n`);
      process.exitCode = 2;
    } else if (err instanceof AgentError) {
      process.stderr.write(`haproxy-dns-agent: ${printableText(err.message)}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(
        `haproxy-dns-agent: internal error, please report it: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exitCode = 1;
    }
  },
);
