/**
 * Names that come from DNS are untrusted: a label may hold any byte (RFC 2181 11), a
 * newline or a `;` among them. Only host names (RFC 952/1123, with `_` as Kubernetes and
 * SRV owners use it) become endpoints; every DNS-sourced string is shown escaped.
 */

const LABEL = /^[A-Za-z0-9_-]{1,63}$/;
const utf8 = new TextEncoder();

/** Labels of letters, digits, `-` and `_`, 1-63 bytes each, 253 bytes in all (a final dot aside). */
export function isHostname(name: string): boolean {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (n.length === 0 || n.length > 253) return false;
  return n.split('.').every((l) => LABEL.test(l));
}

/**
 * A DNS name in RFC 1035 presentation form (section 5.1): every byte that is not a letter,
 * digit, `-`, `_` or the dot between labels is written `\DDD` (its decimal value), and a
 * backslash as `\\`. The result is printable ASCII: safe in a terminal, a pipe or a log.
 */
export function presentName(name: string): string {
  let out = '';
  for (const byte of utf8.encode(name)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9_.-]/.test(c)) out += c;
    else if (c === '\\') out += '\\\\';
    else out += `\\${String(byte).padStart(3, '0')}`;
  }
  return out;
}

/** Text for a terminal or a pipe: bytes outside printable ASCII become `\DDD`, so no line can end early. */
export function printableText(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  let out = '';
  for (const byte of utf8.encode(text))
    out += byte >= 0x20 && byte <= 0x7e ? String.fromCharCode(byte) : `\\${String(byte).padStart(3, '0')}`;
  return out;
}
