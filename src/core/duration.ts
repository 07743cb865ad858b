const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * Parses "500ms", "1s", "2m", "1h", or "0" into milliseconds; null when it is not one.
 * A bare number other than 0 is refused: "30" could mean seconds or milliseconds.
 */
export function parseDuration(text: string): number | null {
  if (text === '0') return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (m === null) return null;
  const [, value, unit] = m;
  const factor = UNITS[unit ?? ''];
  if (value === undefined || factor === undefined) return null;
  const ms = Number(value) * factor;
  return Number.isFinite(ms) && Number.isInteger(Math.round(ms)) ? Math.round(ms) : null;
}
