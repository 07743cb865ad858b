/**
 * `busy`: BIND loaded by another client's questions while the service scales between 10
 * and 1000 pods. Each event's convergence on both sides, the longest stall in it, and
 * BIND's own answer time under that load, from a probe question timed every 100 ms.
 */
import { podName, podsAt, SERVICE, ZONE, type TestBind } from '../test/support/bind.ts';
import { BindWith } from './bind.ts';
import { envInt, fmt, quantile, targetRow } from './common.ts';
import { convergence, to, type Beside, type Sample, type Step } from './convergence.ts';
import { BusyClient, type BusyClientReport } from './busy-worker.ts';

/** The load's own bound: it stops by itself after this long even if the events are not over. */
const LOAD_MAX_MS = 240_000;
const EVENT_TIMEOUT_MS = 20_000;
const PROBE_EVERY_MS = 100;
const PROBE_TIMEOUT_MS = 2_000;
/** The probe before the load starts, for BIND's answer time at rest. */
const REST_PROBE_MS = 3_000;

/** 10 -> 1000, then down and up between 10, 100, 300, 500, 700 and 1000 pods: twenty events. */
const EVENTS: readonly Step[] = [
  1000, 300, 1000, 10, 1000, 300, 1000, 100, 1000, 300, 700, 1000, 10, 1000, 300, 1000, 100, 1000, 500, 1000,
].map((n, i, all) => to(n, `${String(i === 0 ? 10 : (all[i - 1] ?? 0))} -> ${String(n)}`));

export type BusyResult = Readonly<{
  qps: number;
  /** BIND's TCP client quota in the part. */
  tcpClients: number;
  /** The events under the load, and the same events without it (the reference). */
  samples: readonly Sample[];
  quiet: readonly Sample[];
  load: BusyClientReport['load'];
  /** Probe answer times (ms; null: none within the probe's timeout), before the load and under it. */
  atRest: readonly (number | null)[];
  underLoad: readonly (number | null)[];
  /** Whether the load ran until the last event was over (it stops by itself at its bound). */
  loadedThroughout: boolean;
}>;

export async function busyPart(): Promise<BusyResult> {
  // Questions a second of the other client's load.
  const qps = envInt('BENCH_BUSY_QPS', 20_000, 1, 100_000);
  // BIND's TCP client quota in this part (its default: 150). HAProxy's resolver at 1000 pods
  // asks every target's address too, some 700 questions a second over TCP, and holds 200 to
  // 600 connections to BIND over a run; past the quota BIND stops accepting, and the
  // agent's TCP questions and the bench's own nsupdate wait with the rest
  // (BENCH_BUSY_TCP_CLIENTS=150 shows it).
  const tcpClients = envInt('BENCH_BUSY_TCP_CLIENTS', 1_000, 1, 100_000);
  const held: { client: BusyClient | null; report: BusyClientReport | null } = { client: null, report: null };
  const beside = (bind: { port: number }): Beside => ({
    start: async () => {
      const client = (held.client = new BusyClient({
        load: {
          host: '127.0.0.1',
          port: bind.port,
          qps,
          maxMs: LOAD_MAX_MS,
          zone: ZONE,
          // What the other clients of the same server ask: the service, and its pods' names.
          real: [
            { name: SERVICE, type: 'SRV' },
            ...podsAt(0, 1000)
              .filter((_, i) => i % 10 === 0)
              .map((p) => ({ name: podName(p.address), type: 'A' as const })),
          ],
        },
        probe: { name: ZONE, everyMs: PROBE_EVERY_MS, timeoutMs: PROBE_TIMEOUT_MS, restMs: REST_PROBE_MS },
      }));
      await client.started();
    },
    stop: async () => {
      held.report = (await held.client?.stop()) ?? null;
    },
  });
  process.stdout.write('  without the load:\n');
  const bind = (): TestBind => new BindWith([`tcp-clients ${String(tcpClients)};`]);
  const quiet = await convergence(1000, EVENTS, { initial: 10, eventTimeoutMs: EVENT_TIMEOUT_MS, bind });
  process.stdout.write(`  under ${String(qps)} questions a second:\n`);
  const samples = await convergence(1000, EVENTS, { initial: 10, eventTimeoutMs: EVENT_TIMEOUT_MS, beside, bind });
  const report = held.report;
  return {
    qps,
    tcpClients,
    samples,
    quiet,
    load: report?.load ?? { sent: 0, answered: 0, ms: 0 },
    atRest: report?.atRest ?? [],
    underLoad: report?.underLoad ?? [],
    loadedThroughout: report?.throughout ?? false,
  };
}

type Side = Readonly<{ median: number; p95: number; max: number; missed: number; stall: number }>;

function side(samples: readonly Sample[], ms: (s: Sample) => number | null, stall: (s: Sample) => number): Side {
  // An event not converged within the limit counts as later than every one that did.
  const all = samples.map((s) => ms(s) ?? Infinity);
  return {
    median: quantile(all, 0.5),
    p95: quantile(all, 0.95),
    max: quantile(all, 1),
    missed: all.filter((x) => x === Infinity).length,
    stall: Math.max(0, ...samples.map(stall)),
  };
}

const show = (ms: number): string => (ms === Infinity ? `over ${fmt(EVENT_TIMEOUT_MS)}` : fmt(ms));

function probeFigures(times: readonly (number | null)[]): { median: number; p95: number; max: number; lost: number; count: number } {
  const ok = times.flatMap((t) => (t === null ? [] : [t]));
  return { median: quantile(ok, 0.5), p95: quantile(ok, 0.95), max: quantile(ok, 1), lost: times.length - ok.length, count: times.length };
}

export function busyTargets(r: BusyResult): string[] {
  const a = side(
    r.samples,
    (s) => s.agentMs,
    (s) => s.agentStallMs,
  );
  const n = side(
    r.samples,
    (s) => s.nativeMs,
    (s) => s.nativeStallMs,
  );
  const p = probeFigures(r.underLoad);
  return [
    targetRow(
      `busy BIND (${String(r.qps)} questions/s of another client), 10 <-> 1000 pods, ${String(r.samples.length)} events: agent p95 <= native p95`,
      `agent ${show(a.p95)}, native ${show(n.p95)}`,
      a.p95 <= n.p95,
      a.p95 === Infinity ? 'an event not converged within the limit' : fmt(a.p95 - n.p95),
    ),
    // A dropped question has no answer time: the slowest answer had is BIND's worst, the dropped ones are counted apart.
    targetRow(
      "busy BIND: the agent's longest stall <= BIND's worst answer time under the load (slowest probe answered)",
      `stall ${fmt(a.stall)}; BIND's slowest answer ${fmt(p.max)}, and ${String(p.lost)} of ${String(p.count)} probes not answered within ${fmt(PROBE_TIMEOUT_MS)}`,
      a.stall <= p.max,
      fmt(a.stall - p.max),
    ),
  ];
}

export function busySection(r: BusyResult, runLabel: string): string[] {
  const rest = probeFigures(r.atRest);
  const busy = probeFigures(r.underLoad);
  const cell = (ms: number | null): string => (ms === null ? `over ${fmt(EVENT_TIMEOUT_MS)}` : fmt(ms));
  const probeRow = (what: string, p: ReturnType<typeof probeFigures>): string =>
    `| ${what} | ${String(p.count)} | ${fmt(p.median)} | ${fmt(p.p95)} | ${fmt(p.max)} | ${String(p.lost)} |`;
  const sideRow = (what: string, samples: readonly Sample[], agent: boolean): string => {
    const x = agent
      ? side(
          samples,
          (s) => s.agentMs,
          (s) => s.agentStallMs,
        )
      : side(
          samples,
          (s) => s.nativeMs,
          (s) => s.nativeStallMs,
        );
    return `| ${what} | ${String(samples.length)} | ${show(x.median)} | ${show(x.p95)} | ${show(x.max)} | ${String(x.missed)} | ${fmt(x.stall)} |`;
  };
  const loadSeconds = r.load.ms / 1000;
  const quiet = new Map(r.quiet.map((s, i) => [i, s]));
  return [
    "## Busy DNS server: BIND under another client's load",
    '',
    `${runLabel} A thread of the bench's process sends BIND ${String(r.qps)} questions a second over UDP from 8 sockets (a third random names in the zone, a third random names outside it, a third the service's SRV and 100 of its pods' A names), whether or not the earlier ones were answered, from the moment both sides serve the first 10 pods until the last event is over (it stops by itself after ${fmt(LOAD_MAX_MS)}). Meanwhile the service scales ${r.samples.map((s) => s.event).join(', ')}, as the convergence parts do (an event of more than 300 records in several updates, time from the last), each event for at most ${fmt(EVENT_TIMEOUT_MS)}; the same events run first without the load, on a BIND of their own, for reference. The stall of an event is the longest time in it in which a side came no nearer to the new set (fewer servers missing plus fewer extra than ever before in the event, polled every 20 ms); the agent applies an answer at once, so its stall is most of its convergence time. BIND's answer time: the zone's SOA over UDP, on a fresh socket every ${String(PROBE_EVERY_MS)} ms from the same thread, unanswered past ${fmt(PROBE_TIMEOUT_MS)}. BIND's TCP client quota is ${String(r.tcpClients)} here: at its default, 150, HAProxy's resolver at 1000 pods fills it alone (some 200-600 connections held), BIND stops accepting TCP, and the agent's TCP questions and the bench's nsupdate wait behind it.`,
    '',
    `Load: ${String(r.load.sent)} questions sent in ${loadSeconds.toFixed(1)} s (${(r.load.sent / Math.max(loadSeconds, 0.001)).toFixed(0)} a second), ${String(r.load.answered)} answered (${((100 * r.load.answered) / Math.max(1, r.load.sent)).toFixed(1)}%)${r.loadedThroughout ? '' : '; it stopped by itself before the last event was over'}.`,
    '',
    '| side | events | median | p95 | max | not converged | longest stall |',
    '|---|---|---|---|---|---|---|',
    sideRow('agent, under the load', r.samples, true),
    sideRow('native, under the load', r.samples, false),
    sideRow('agent, without it', r.quiet, true),
    sideRow('native, without it', r.quiet, false),
    '',
    '| BIND answer time (SOA, UDP) | probes | median | p95 | max | unanswered |',
    '|---|---|---|---|---|---|',
    probeRow('at rest, before the load', rest),
    probeRow('under the load, during the events', busy),
    '',
    '| target | measured | met |',
    '|---|---|---|',
    ...busyTargets(r),
    '',
    `How well the second target measures: under this load BIND does not answer late, it drops (the load's unanswered share above, and the probes it did not answer); what it answers, it answers within tens of milliseconds. A dropped question has no answer time, so BIND's worst answer time is that of the slowest answered probe. The agent's stall also holds its own pass (the serial watch's period, \`--watch 300ms\`; the 60 KB SRV answer over TCP; the new targets' addresses; the commands), which its stalls without the load, in the table above, show apart from the load.`,
    '',
    'Events (under the load; without it):',
    '',
    '| event | agent | agent stall | native | native stall | agent, no load | native, no load |',
    '|---|---|---|---|---|---|---|',
    ...r.samples.map((s, i) => {
      const q = quiet.get(i);
      return `| ${s.event} | ${cell(s.agentMs)} | ${fmt(s.agentStallMs)} | ${cell(s.nativeMs)} | ${fmt(s.nativeStallMs)} | ${q === undefined ? '-' : cell(q.agentMs)} | ${q === undefined ? '-' : cell(q.nativeMs)} |`;
    }),
    '',
  ];
}
