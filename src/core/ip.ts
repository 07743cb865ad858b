/**
 * IP address checks without node:net, so the core stays free of socket modules.
 * Addresses are compared in canonical form: HAProxy prints IPv6 the way inet_ntop does
 * (RFC 5952: lower case, longest zero run compressed), which is also what WHATWG URL gives.
 */
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

export function isIPv6(s: string): boolean {
  return s.includes(':') && canonicalIPv6(s) !== null;
}

export function isIPAddress(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

function canonicalIPv6(s: string): string | null {
  if (!/^[0-9A-Fa-f:.]+$/.test(s)) return null;
  try {
    const host = new URL(`http://[${s}]/`).hostname;
    return host.slice(1, -1);
  } catch {
    return null;
  }
}

/**
 * The form HAProxy prints an address in; throws on anything that is not an IP literal.
 * inet_ntop writes an IPv4-mapped address with its IPv4 tail (`::ffff:10.0.0.1`, not
 * `::ffff:a00:1`), and so does this: a mapped endpoint then compares equal to what
 * HAProxy shows for it.
 */
export function canonicalIP(s: string): string {
  if (isIPv4(s)) return s;
  const v6 = canonicalIPv6(s);
  if (v6 === null) throw new TypeError(`not an IP address: ${JSON.stringify(s)}`);
  const words = v6Words(v6);
  const zeros = (n: number): boolean => words.slice(0, n).every((w) => w === 0);
  const [w6 = 0, w7 = 0] = [words[6], words[7]];
  const tail = (): string => `${String(w6 >> 8)}.${String(w6 & 0xff)}.${String(w7 >> 8)}.${String(w7 & 0xff)}`;
  // glibc's inet_ntop6: mapped (::ffff:0:0/96) and IPv4-compatible (::/96 but ::, ::1) get an IPv4 tail.
  if (zeros(5) && words[5] === 0xffff) return `::ffff:${tail()}`;
  if (zeros(6) && (w6 !== 0 || (w7 !== 0 && w7 !== 1))) return `::${tail()}`;
  return v6;
}

/** The eight 16-bit groups of a WHATWG-canonical IPv6 literal (no IPv4 tail in that form). */
function v6Words(v6: string): number[] {
  const [head = '', rest] = v6.split('::');
  const left = head === '' ? [] : head.split(':').map((h) => parseInt(h, 16));
  const right = rest === undefined || rest === '' ? [] : rest.split(':').map((h) => parseInt(h, 16));
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** Network-order bytes of an IP literal (4 for IPv4, 16 for IPv6). */
export function ipBytes(s: string): Uint8Array {
  const ip = canonicalIP(s);
  if (isIPv4(ip)) return Uint8Array.from(ip.split('.').map(Number));
  let text = ip;
  const out = new Uint8Array(16);
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let tail: number[] = [];
  if (v4?.[1] !== undefined) {
    const q = v4[1].split('.').map(Number);
    tail = [((q[0] ?? 0) << 8) | (q[1] ?? 0), ((q[2] ?? 0) << 8) | (q[3] ?? 0)];
    text = text.slice(0, -v4[1].length) + '0:0';
  }
  const [head = '', rest] = text.split('::');
  const left = head === '' ? [] : head.split(':').map((h) => parseInt(h, 16));
  const right = rest === undefined || rest === '' ? [] : rest.split(':').map((h) => parseInt(h, 16));
  const groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  if (tail.length === 2) {
    groups[6] = tail[0] ?? 0;
    groups[7] = tail[1] ?? 0;
  }
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}
