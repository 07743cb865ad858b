import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket } from 'dns-packet';

/** What to send back for a query: bytes, bytes in pieces (TCP), bytes `late` ms from now, or nothing. */
export type Response = Buffer | { pieces: Buffer[] } | { late: number; reply: Buffer } | null;
export type Responder = (query: DecodedPacket, transport: 'udp' | 'tcp', raw: Buffer) => Response;

/**
 * A small DNS server on 127.0.0.1 (UDP and TCP on the same port) that answers through a
 * function: the demo's stand-in for a cluster's DNS, and the base of the tests'
 * fault-injecting server.
 */
export class DnsServer {
  port = 0;
  readonly #respond: Responder;
  #udp: dgram.Socket | null = null;
  #tcp: net.Server | null = null;
  readonly #conns = new Set<net.Socket>();
  /** The source port of every UDP question, in order. */
  readonly udpSources: number[] = [];
  /** TCP connections accepted so far. */
  tcpAccepted = 0;

  constructor(respond: Responder) {
    this.#respond = respond;
  }

  async start(port = 0): Promise<number> {
    const tcp = net.createServer((c) => {
      this.#onTcp(c);
    });
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, '127.0.0.1', () => {
        resolve();
      });
    });
    const addr = tcp.address();
    this.port = typeof addr === 'object' && addr !== null ? addr.port : port;
    const udp = dgram.createSocket('udp4');
    udp.on('message', (msg, rinfo) => {
      this.udpSources.push(rinfo.port);
      const res = this.#answer(msg, 'udp');
      if (res !== null && 'late' in res) {
        setTimeout(() => {
          if (this.#udp === udp) udp.send(res.reply, rinfo.port, rinfo.address);
        }, res.late);
        return;
      }
      const bytes = res === null ? null : Buffer.isBuffer(res) ? res : Buffer.concat(res.pieces);
      if (bytes !== null) udp.send(bytes, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.port, '127.0.0.1', () => {
        resolve();
      });
    });
    this.#udp = udp;
    this.#tcp = tcp;
    return this.port;
  }

  /** Stops answering over TCP only (a server whose TCP port is firewalled). */
  async closeTcp(): Promise<void> {
    for (const c of this.#conns) c.destroy();
    await closeWith(this.#tcp);
    this.#tcp = null;
  }

  async stop(): Promise<void> {
    for (const c of this.#conns) c.destroy();
    await closeWith(this.#tcp);
    await closeWith(this.#udp);
    this.#tcp = null;
    this.#udp = null;
  }

  #answer(msg: Buffer, transport: 'udp' | 'tcp'): Response {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return null;
    }
    return this.#respond(query, transport, msg);
  }

  /** `n` TCP connections have come and all have closed: whatever they carried has been read. */
  tcpSettled(n: number): boolean {
    return this.tcpAccepted >= n && this.#conns.size === 0;
  }

  #onTcp(c: net.Socket): void {
    this.tcpAccepted++;
    this.#conns.add(c);
    c.on('close', () => this.#conns.delete(c));
    c.on('error', () => c.destroy());
    let buf = Buffer.alloc(0);
    c.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const res = this.#answer(buf.subarray(2, 2 + len), 'tcp');
        buf = buf.subarray(2 + len);
        if (res === null) continue;
        if ('late' in res) {
          const framed = Buffer.concat([Buffer.from([res.reply.length >> 8, res.reply.length & 0xff]), res.reply]);
          setTimeout(() => {
            if (!c.destroyed) c.write(framed);
          }, res.late);
          continue;
        }
        const body = Buffer.isBuffer(res) ? res : Buffer.concat(res.pieces);
        if (body.length > 0xffff) {
          c.destroy(); // cannot be framed over TCP; a real server would have compressed names
          return;
        }
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(body.length);
        if (Buffer.isBuffer(res)) c.write(Buffer.concat([prefix, body]));
        else writeInPieces(c, [prefix.subarray(0, 1), prefix.subarray(1), ...res.pieces]);
      }
    });
  }
}

function closeWith(thing: { close(done: () => void): unknown } | null): Promise<void> {
  return new Promise((resolve) => {
    if (thing === null) resolve();
    else thing.close(resolve);
  });
}

function writeInPieces(c: net.Socket, pieces: Buffer[]): void {
  const [first, ...rest] = pieces;
  if (first === undefined || c.destroyed) return;
  c.write(first);
  setTimeout(() => {
    writeInPieces(c, rest);
  }, 10);
}

/** RCODE values (RFC 1035 4.1.1); dns-packet takes them in the low bits of `flags`. */
export const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

/** One endpoint of a service, as a headless Service publishes it. */
export type Published = Readonly<{ address: string; port: number; weight: number; priority: number; host: string }>;

/**
 * The reply a cluster DNS gives for `query` about a service: SRV records for the service
 * name with the targets' A/AAAA records in the additional section, A/AAAA records for a
 * target name, NXDOMAIN for anything else. A UDP reply larger than the client's EDNS size
 * (512 without EDNS) is sent truncated, with the TC bit and no records, as real servers do.
 */
export function serviceReply(
  query: DecodedPacket,
  transport: 'udp' | 'tcp',
  service: string,
  endpoints: readonly Published[],
  ttl = 5,
): Buffer {
  const q = query.questions?.[0];
  const name = (q?.name ?? '').toLowerCase();
  const answers: Answer[] = [];
  const additionals: Answer[] = [];
  let known = false;
  const addressOf = (e: Published): Answer =>
    e.address.includes(':') ? { type: 'AAAA', name: e.host, ttl, data: e.address } : { type: 'A', name: e.host, ttl, data: e.address };
  if (name === service.toLowerCase()) {
    known = true;
    if (q?.type === 'SRV') {
      for (const e of endpoints) {
        answers.push({ type: 'SRV', name: service, ttl, data: { priority: e.priority, weight: e.weight, port: e.port, target: e.host } });
        additionals.push(addressOf(e));
      }
    }
  }
  for (const e of endpoints) {
    if (e.host.toLowerCase() !== name) continue;
    known = true;
    const a = addressOf(e);
    if (a.type === q?.type) answers.push(a);
  }
  const reply = {
    type: 'response' as const,
    id: query.id ?? 0,
    flags: dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | (known ? 0 : RCODE.NXDOMAIN),
    questions: query.questions ?? [],
    answers,
    additionals,
  };
  const bytes = dnsPacket.encode(reply);
  const opt = query.additionals?.find((r) => r.type === 'OPT');
  const limit = opt?.type === 'OPT' ? Math.min(opt.udpPayloadSize, 1232) : 512;
  if (transport === 'udp' && bytes.length > limit) {
    return dnsPacket.encode({ ...reply, answers: [], additionals: [], flags: reply.flags | dnsPacket.TRUNCATED_RESPONSE });
  }
  return bytes;
}
