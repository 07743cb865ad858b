/**
 * The Node.js flags the agent runs with, in one place: the bin (src/main.ts) adds those not
 * already given, and the image's ENTRYPOINT passes them (test/deploy/dockerfile.test.ts
 * holds the two the same).
 * - `--disable-sigusr1`: SIGUSR1 does not open Node's inspector, an unauthenticated
 *   debugger on 127.0.0.1:9229 that every container of the pod could reach. HAProxy's own
 *   stop signal is SIGUSR1, so a `kill -USR1` meant for it can land here. With the flag
 *   the signal stays blocked: it does nothing. Given from Node 24, which the agent needs.
 * Two are V8's. V8 is tuned for throughput; the agent, a sidecar under a memory limit that
 * waits most of the time, wants (what they save: docs/decisions/0005-bin-starts-node-again-with-flags.md):
 * - `--max-semi-space-size=1`: a small young generation;
 * - `--max-opt=1`: code compiled no further than V8's baseline tier. The optimizing
 *   compilers' code and memory cost resident memory, and compiling the code that runs
 *   once a second or less cost more CPU at rest than it saved. Given only on Node 20-24
 *   (V8 11-13), where V8 is known to take it: Node refuses to start on a flag V8 does not know.
 * No imports: the bin reads this before anything else loads.
 */
export function nodeFlags(nodeMajor: number): readonly string[] {
  return [
    ...(nodeMajor >= 24 ? ['--disable-sigusr1'] : []),
    '--max-semi-space-size=1',
    ...(nodeMajor >= 20 && nodeMajor <= 24 ? ['--max-opt=1'] : []),
  ];
}

/** A flag's name: `--max-semi-space-size` of `--max_semi_space_size=4` (Node and V8 read `_` as `-`). */
export const flagName = (arg: string): string => (arg.split('=')[0] ?? arg).replaceAll('_', '-');
