import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** One JSON log line of the agent. */
export type LogLine = Readonly<Record<string, unknown> & { msg?: string; level?: number }>;

/** The agent's JSON log lines in `text` (other lines, such as --once's stderr summary, are skipped). */
export function parseLogLines(text: string): LogLine[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

/** A pino logger whose lines a test reads back. */
export function captureLogs(level = 'debug'): { log: Logger; lines: () => LogLine[]; count: (msg: string) => number } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  const lines = (): LogLine[] => parseLogLines(text);
  return { log: pino({ level }, sink), lines, count: (msg) => lines().filter((l) => l.msg === msg).length };
}
