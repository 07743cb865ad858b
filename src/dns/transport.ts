import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import net from 'node:net';
import { DnsError } from '../errors.ts';
import { decodeReply, encodeQuery, type Question, type Rejection, type Reply } from './message.ts';

export type Nameserver = Readonly<{ host: string; port: number }>;

export const describeNameserver = (ns: Nameserver): string =>
  ns.host.includes(':') ? `[${ns.host}]:${String(ns.port)}` : `${ns.host}:${String(ns.port)}`;

export type Transport = 'udp' | 'tcp';

/** Called for every datagram or stream that was dropped instead of trusted. */
export type OnDropped = (ns: Nameserver, transport: Transport, why: Rejection | 'wrong-source') => void;

/** Largest answer over TCP: the two-byte length prefix allows no more. */
const TCP_MAX = 65_535;

/**
 * One question to one nameserver: over UDP, and again over TCP when the UDP answer is
 * truncated. Replies from another address, with another ID or question, or that do not
 * decode are dropped (and reported) while the query keeps waiting for the real one.
 */
export async function ask(
  ns: Nameserver,
  q: Question,
  timeoutMs: number,
  onDropped: OnDropped,
): Promise<{ reply: Reply; transport: Transport }> {
  const udp = await askUdp(ns, q, timeoutMs, onDropped);
  if (!udp.truncated) return { reply: udp, transport: 'udp' };
  return { reply: await askTcp(ns, q, timeoutMs, onDropped), transport: 'tcp' };
}

function askUdp(ns: Nameserver, q: Question, timeoutMs: number, onDropped: OnDropped): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const id = randomInt(0, 65_536);
    const sock = dgram.createSocket(net.isIPv6(ns.host) ? 'udp6' : 'udp4');
    const done = (err: Error | null, reply?: Reply): void => {
      clearTimeout(timer);
      sock.close();
      if (err !== null) reject(err);
      else if (reply !== undefined) resolve(reply);
    };
    const timer = setTimeout(() => {
      done(new DnsError('timeout', `${describeNameserver(ns)} did not answer ${q.type} ${q.name} within ${String(timeoutMs)}ms (udp)`));
    }, timeoutMs);
    sock.on('message', (msg, rinfo) => {
      if (rinfo.address !== ns.host || rinfo.port !== ns.port) {
        onDropped(ns, 'udp', 'wrong-source');
        return;
      }
      const r = decodeReply(msg, q, id);
      if (typeof r === 'string') onDropped(ns, 'udp', r);
      else done(null, r);
    });
    sock.on('error', (e) => {
      done(new DnsError('unreachable', `${describeNameserver(ns)}: ${e.message} (udp)`));
    });
    sock.send(encodeQuery(q, id), ns.port, ns.host, (e) => {
      if (e) done(new DnsError('unreachable', `${describeNameserver(ns)}: ${e.message} (udp)`));
    });
  });
}

function askTcp(ns: Nameserver, q: Question, timeoutMs: number, onDropped: OnDropped): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const id = randomInt(0, 65_536);
    const sock = net.connect(ns.port, ns.host);
    let buf = Buffer.alloc(0);
    let settled = false;
    const done = (err: Error | null, reply?: Reply): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err !== null) reject(err);
      else if (reply !== undefined) resolve(reply);
    };
    const timer = setTimeout(() => {
      done(new DnsError('timeout', `${describeNameserver(ns)} did not answer ${q.type} ${q.name} within ${String(timeoutMs)}ms (tcp)`));
    }, timeoutMs);
    sock.on('connect', () => {
      const msg = encodeQuery(q, id);
      const len = Buffer.alloc(2);
      len.writeUInt16BE(msg.length);
      sock.write(Buffer.concat([len, msg]));
    });
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      // RFC 1035 4.2.2: each message is prefixed by its length; it may arrive in pieces.
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) return;
        const r = decodeReply(buf.subarray(2, 2 + len), q, id);
        buf = buf.subarray(2 + len);
        if (typeof r !== 'string') {
          done(null, r);
          return;
        }
        onDropped(ns, 'tcp', r);
      }
      if (buf.length > TCP_MAX + 2) done(new DnsError('malformed', `${describeNameserver(ns)}: oversized TCP stream`));
    });
    sock.on('end', () => {
      done(new DnsError('malformed', `${describeNameserver(ns)} closed the TCP connection without a valid answer to ${q.type} ${q.name}`));
    });
    sock.on('error', (e) => {
      done(new DnsError('unreachable', `${describeNameserver(ns)}: ${e.message} (tcp)`));
    });
  });
}
