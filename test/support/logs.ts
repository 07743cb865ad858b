import type { Logger } from 'pino';
import { createLogger } from '../../src/agent/report.ts';

/** One JSON log line of the agent. */
export type LogLine = Readonly<Record<string, unknown> & { msg?: string; level?: string }>;

/** The agent's JSON log lines in `text` (other lines, such as --once's stderr summary, are skipped). */
export function parseLogLines(text: string): LogLine[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

/** The agent's logger (JSON lines), its lines kept for a test to read back. */
export function captureLogs(level = 'debug'): { log: Logger; lines: () => LogLine[]; count: (msg: string) => number } {
  let text = '';
  const log = createLogger({ level, format: 'json' }, { write: (line) => (text += line) });
  const lines = (): LogLine[] => parseLogLines(text);
  return { log, lines, count: (msg) => lines().filter((l) => l.msg === msg).length };
}
