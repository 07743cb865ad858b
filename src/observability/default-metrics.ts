import { createRequire } from 'node:module';
import type * as Prom from 'prom-client';

/**
 * prom-client's default metrics (process_*, nodejs_*), registered one module at a time.
 * Its collectDefaultMetrics also loads @opentelemetry/api, for exemplars on the CPU
 * counters, which the agent does not use: those three counters are the agent's own,
 * under the same names and help (docs/decisions/0003-prom-client-private-paths.md).
 */
const require = createRequire(import.meta.url);

type Register = (registry: Prom.Registry, config: Readonly<{ eventLoopMonitoringPrecision: number }>) => void;

const MODULES = [
  'processStartTime',
  'osMemoryHeap',
  'processOpenFileDescriptors',
  'processMaxFileDescriptors',
  'eventLoopLag',
  'processResources',
  'processHandles',
  'processRequests',
  'heapSizeAndUsed',
  'heapSpacesSizeAndUsed',
  'version',
  'gc',
] as const;

export function collectDefaultMetrics(
  registry: Prom.Registry,
  Counter: typeof Prom.Counter,
  config: Readonly<{ eventLoopMonitoringPrecision: number }>,
): void {
  const registers = [registry];
  let last = process.cpuUsage();
  const user = new Counter({
    name: 'process_cpu_user_seconds_total',
    help: 'Total user CPU time spent in seconds.',
    registers,
    // One collect sets all three, as prom-client's own does.
    collect() {
      const now = process.cpuUsage();
      const [u, s] = [(now.user - last.user) / 1e6, (now.system - last.system) / 1e6];
      last = now;
      user.inc(u);
      system.inc(s);
      total.inc(u + s);
    },
  });
  const system = new Counter({ name: 'process_cpu_system_seconds_total', help: 'Total system CPU time spent in seconds.', registers });
  const total = new Counter({ name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent in seconds.', registers });
  for (const name of MODULES) (require(`prom-client/lib/metrics/${name}`) as Register)(registry, config);
}
