/**
 * The soak's phases, cycled until its time is up: steady, scale up, scale down (pods
 * replaced, the ones leaving drained), a DNS outage, an agent restart (every
 * --restart-every cycles; the second one a SIGKILL, the others SIGTERM), an HAProxy reload,
 * and with --churn new target names.
 * Each phase acts at its start and then lasts its time, so that what the act costs shows
 * in the requests sent during it.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { TestBind } from '../test/support/bind.ts';
import type { TestHaproxy } from '../test/support/haproxy.ts';
import type { AgentLives } from './soak-agent.ts';
import type { SoakOptions } from './soak-options.ts';
import type { Service } from './soak-service.ts';

export type PhaseName =
  'steady' | 'scale-up' | 'scale-down' | 'dns-outage' | 'agent-restart' | 'agent-kill' | 'haproxy-reload' | 'name-churn';

/** What each phase says it does, for the report. */
export const PHASE_TEXT: Readonly<Record<PhaseName, string>> = {
  steady: 'nothing changes',
  'scale-up': '1 to 3 pods join the service',
  'scale-down': '2 to 4 of the oldest pods leave (drained, then stopped after their preStop sleep) and 1 new pod joins',
  'dns-outage': 'BIND is stopped, then started again',
  'agent-restart': 'SIGTERM to the agent, then a new agent',
  'agent-kill': 'SIGKILL to the agent, then a new agent',
  'haproxy-reload': "HAProxy's server state saved to its server-state-file, then reloaded",
  'name-churn': 'every SRV target takes a new name, every 2 s (the pods and their addresses stay)',
};

export type Parts = Readonly<{
  bind: TestBind;
  haproxy: TestHaproxy;
  service: Service;
  lives: AgentLives;
  options: SoakOptions;
  stopped: AbortSignal;
}>;

type Phase = Readonly<{ name: PhaseName; ms: number; act: (p: Parts) => Promise<void> }>;

/** The most pods in DNS (the slots: 20) and the fewest. */
const MOST_PODS = 12;
const FEWEST_PODS = 3;

/** Resolves after `ms`, or at once when the soak is stopped. */
export const pause = (ms: number, stopped: AbortSignal): Promise<void> =>
  delay(Math.max(0, ms), undefined, { signal: stopped }).catch(() => undefined);

/** The phases of cycle `c` (from 0). */
export function cycle(c: number, o: SoakOptions): Phase[] {
  const phases: Phase[] = [
    { name: 'steady', ms: 6_000, act: () => Promise.resolve() },
    {
      name: 'scale-up',
      ms: 6_000,
      act: async ({ service }) => {
        const count = Math.min(1 + (c % 3), MOST_PODS - service.inDns.length);
        await service.scaleTo([...service.inDns, ...service.fresh(count)]);
      },
    },
    {
      name: 'scale-down',
      ms: 8_000,
      act: async ({ service }) => {
        const leaving = Math.min(2 + (c % 3), service.inDns.length + 1 - FEWEST_PODS);
        await service.scaleTo([...service.inDns.slice(leaving), ...service.fresh(1)]);
      },
    },
    {
      name: 'dns-outage',
      ms: o.outageSeconds * 1_000 + 4_000,
      act: async ({ bind, stopped }) => {
        await bind.stop();
        await pause(o.outageSeconds * 1_000, stopped);
        if (!stopped.aborted) await bind.start(bind.port);
      },
    },
  ];
  // The agent restarts every --restart-every cycles (0: never); the second restart is a SIGKILL.
  const restart = o.restartEvery === 0 || (c + 1) % o.restartEvery !== 0 ? 0 : (c + 1) / o.restartEvery;
  if (restart > 0)
    phases.push({
      name: restart === 2 ? 'agent-kill' : 'agent-restart',
      ms: 8_000,
      act: async ({ lives }) => {
        await lives.end(restart === 2 ? 'SIGKILL' : 'SIGTERM');
        await lives.begin();
      },
    });
  phases.push({
    name: 'haproxy-reload',
    ms: 8_000,
    act: async ({ haproxy }) => {
      await haproxy.saveState();
      await haproxy.reload();
    },
  });
  if (o.churn)
    phases.push({
      name: 'name-churn',
      ms: 6_000,
      act: async ({ service, stopped }) => {
        for (let i = 0; i < 3 && !stopped.aborted; i++) {
          await service.rename();
          await pause(2_000, stopped);
        }
      },
    });
  return phases;
}
