/**
 * `--log-format text`: one log record (pino's JSON object) as one line for a person at a
 * terminal: `<time> <LEVEL> <message> key=value ...`. Names, notes and errors in a record
 * may come from DNS or a socket, so the line holds printable ASCII only: anything else is
 * escaped (`\n`, `\u001b`), and a value with a space, a backslash or a leading quote (a
 * message with `=` or a quote) is quoted, so nothing can end the line, pass for a field or
 * reach the terminal as a control sequence.
 */
export function textLine(record: Readonly<Record<string, unknown>>): string {
  const { time, level, msg, ...fields } = record;
  const when = typeof time === 'number' ? new Date(time).toISOString() : escaped(String(time));
  const text = typeof msg === 'string' ? msg : '';
  // A message holding `=` or a quote (a name from DNS can) is quoted: it cannot pass for a field.
  const message = /[="]/.test(text) ? quoted(text) : escaped(text);
  const parts = [when, escaped(String(level).toUpperCase()).padEnd(5), message];
  for (const [key, value] of Object.entries(fields)) parts.push(`${/^[\w.-]+$/.test(key) ? key : quoted(key)}=${fieldValue(value)}`);
  return `${parts.join(' ')}\n`;
}

/** A field's value: bare when it is printable ASCII without a space or a backslash (and does not start with a quote), else quoted. */
function fieldValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /^[\x21-\x5b\x5d-\x7e]+$/.test(text) && !text.startsWith('"') ? text : quoted(text);
}

const quoted = (text: string): string => `"${escaped(text).replaceAll('"', '\\"')}"`;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

/** Printable ASCII as it is (a backslash doubled), everything else as an escape: one UTF-16 unit each. */
function escaped(text: string): string {
  return text.replace(/[^\x20-\x5b\x5d-\x7e]/g, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
