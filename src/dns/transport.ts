import dgram from 'node:dgram';
import net from 'node:net';
import { describeNameserver, type Nameserver } from '../config/model.ts';
import { DnsError } from '../errors.ts';
import { frameTcp, TcpFrameReader } from './framing.ts';
import { randomId } from './ids.ts';
import { decodeKnown, encodeQuery, type KnownReply, type Question, type Rejection, type Reply } from './message.ts';

export type Transport = 'udp' | 'tcp';

/** What the transport saw besides the answer, for metrics and debug logs. */
export type TransportHooks = Readonly<{
  /** A datagram or stream message that was dropped instead of trusted. */
  dropped: (ns: Nameserver, transport: Transport, why: Rejection | 'wrong-source') => void;
  /** A UDP answer with TC set: the question goes again over TCP. */
  truncated: (ns: Nameserver) => void;
}>;

/** Largest answer over TCP: the two-byte length prefix allows no more. */
const TCP_MAX = 65_535;
/** What one TCP query may read in all (a reply, and a few dropped ones before it). */
const TCP_READ_MAX = 4 * (TCP_MAX + 2);

/**
 * One question to one nameserver: over UDP, and again over TCP when the UDP answer is
 * truncated. Replies from another address, with another ID or question, or that do not
 * decode are dropped (and reported) while the query keeps waiting for the real one.
 * Every failure is a DnsError that names the transport it happened on.
 */
export type AskOptions = Readonly<{
  /** Straight to TCP: this question's answer was truncated over UDP last time (RFC 7766 allows it). */
  tcpFirst?: boolean;
  /** The last answer to this question: the same bytes again are not decoded again. */
  known?: KnownReply | undefined;
}>;

export async function ask(
  ns: Nameserver,
  q: Question,
  timeoutMs: number,
  hooks: TransportHooks,
  o: AskOptions = {},
): Promise<{ reply: Reply; transport: Transport; raw: Buffer; truncated: boolean }> {
  if (o.tcpFirst !== true) {
    const udp = await askUdp(ns, q, timeoutMs, hooks, o.known);
    if (!udp.reply.truncated) return { ...udp, transport: 'udp', truncated: false };
    hooks.truncated(ns);
  }
  return { ...(await askTcp(ns, q, timeoutMs, hooks, o.known)), transport: 'tcp', truncated: o.tcpFirst !== true };
}

const timeoutError = (ns: Nameserver, q: Question, ms: number, t: Transport): DnsError =>
  new DnsError('timeout', `${describeNameserver(ns)} did not answer ${q.type} ${q.name} within ${String(ms)}ms (${t})`, t);

function askUdp(ns: Nameserver, q: Question, timeoutMs: number, hooks: TransportHooks, known: KnownReply | undefined): Promise<KnownReply> {
  return new Promise((resolve, reject) => {
    const id = randomId();
    const sock = dgram.createSocket(net.isIPv6(ns.host) ? 'udp6' : 'udp4');
    let settled = false;
    const done = (err: Error | null, reply?: KnownReply): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.close();
      if (err !== null) reject(err);
      else if (reply !== undefined) resolve(reply);
    };
    const timer = setTimeout(() => {
      done(timeoutError(ns, q, timeoutMs, 'udp'));
    }, timeoutMs);
    sock.on('message', (msg, rinfo) => {
      // A connected socket gets datagrams from its peer only; the check stays as a guard.
      if (rinfo.address !== ns.host || rinfo.port !== ns.port) {
        hooks.dropped(ns, 'udp', 'wrong-source');
        return;
      }
      const r = decodeKnown(msg, q, id, known);
      if (typeof r === 'string') hooks.dropped(ns, 'udp', r);
      else done(null, { raw: msg, reply: r });
    });
    const unreachable = (e: NodeJS.ErrnoException): void => {
      const why = e.code === 'ECONNREFUSED' ? 'nothing listens there (port unreachable)' : e.message;
      done(new DnsError('unreachable', `${describeNameserver(ns)}: ${why} (udp)`, 'udp'));
    };
    sock.on('error', unreachable);
    // Connected, so that an ICMP "port unreachable" ends the query at once instead of its timeout.
    sock.connect(ns.port, ns.host, () => {
      sock.send(encodeQuery(q, id), (e) => {
        if (e) unreachable(e);
      });
    });
  });
}

function askTcp(ns: Nameserver, q: Question, timeoutMs: number, hooks: TransportHooks, known: KnownReply | undefined): Promise<KnownReply> {
  return new Promise((resolve, reject) => {
    const id = randomId();
    const sock = net.connect(ns.port, ns.host);
    const frames = new TcpFrameReader();
    let received = 0;
    let settled = false;
    const done = (err: Error | null, reply?: KnownReply): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err !== null) reject(err);
      else if (reply !== undefined) resolve(reply);
    };
    const timer = setTimeout(() => {
      done(timeoutError(ns, q, timeoutMs, 'tcp'));
    }, timeoutMs);
    sock.on('connect', () => sock.write(frameTcp(encodeQuery(q, id))));
    sock.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > TCP_READ_MAX) {
        done(
          new DnsError('malformed', `${describeNameserver(ns)}: more than ${String(TCP_READ_MAX)} bytes over TCP without an answer`, 'tcp'),
        );
        return;
      }
      for (const message of frames.push(chunk)) {
        const r = decodeKnown(message, q, id, known);
        if (typeof r !== 'string') {
          done(null, { raw: message, reply: r });
          return;
        }
        hooks.dropped(ns, 'tcp', r);
      }
      if (frames.pending > TCP_MAX + 2) done(new DnsError('malformed', `${describeNameserver(ns)}: oversized TCP stream`, 'tcp'));
    });
    sock.on('end', () => {
      done(
        new DnsError(
          'malformed',
          `${describeNameserver(ns)} closed the TCP connection without a valid answer to ${q.type} ${q.name}`,
          'tcp',
        ),
      );
    });
    sock.on('error', (e) => {
      done(new DnsError('unreachable', `${describeNameserver(ns)}: ${e.message} (tcp)`, 'tcp'));
    });
  });
}
