import dgram from 'node:dgram';
import net from 'node:net';
import { describeNameserver, type Nameserver } from '../config/model.ts';
import { DnsError } from '../errors.ts';
import { frameTcp, TcpFrameReader } from './framing.ts';
import { randomId } from './ids.ts';
import type { DnsObserver } from './answer.ts';
import { decodeKnown, encodeQuery, type KnownReply, type Question, type Taken } from './message.ts';

export type Transport = 'udp' | 'tcp';

/** Largest answer over TCP: the two-byte length prefix allows no more. */
const TCP_MAX = 65_535;
/** What one TCP try may read in all (a reply, and a few dropped ones before it). */
const TCP_READ_MAX = 4 * (TCP_MAX + 2);

/** One try of a question on the wire: a socket of its own, an ID of its own. */
export type Try = Readonly<{
  ns: Nameserver;
  transport: Transport;
  /** Stops listening and frees the socket; the callback is not called after it. */
  close: () => void;
}>;

/** How a try ended: the reply to its ID and question (with its bytes), or why there will be none. */
export type TryOutcome = (Taken & Readonly<{ raw: Buffer }>) | DnsError;

/**
 * Sends `q` to `ns` once: over UDP from a socket of its own (a fresh random source port and
 * a fresh random ID, RFC 5452), or over a TCP connection of its own. `done` is called once,
 * with the first message that is the reply to this ID and question, or with the error that
 * ends the try (unreachable, closed, oversized). Replies from another address, with another
 * ID or question, or that do not decode are dropped (counted in `observer`) while the try
 * listens on.
 * A try has no clock: the question it belongs to decides how long it listens.
 */
export function sendTry(
  ns: Nameserver,
  transport: Transport,
  q: Question,
  observer: DnsObserver,
  known: KnownReply | undefined,
  done: (outcome: TryOutcome) => void,
): Try {
  return transport === 'udp' ? udpTry(ns, q, observer, known, done) : tcpTry(ns, q, observer, known, done);
}

function udpTry(ns: Nameserver, q: Question, observer: DnsObserver, known: KnownReply | undefined, done: (o: TryOutcome) => void): Try {
  const id = randomId();
  const sock = dgram.createSocket(net.isIPv6(ns.host) ? 'udp6' : 'udp4');
  const { close, finish, isOpen } = ending(() => sock.close(), done);
  sock.on('message', (msg, rinfo) => {
    // A connected socket gets datagrams from its peer only; the check stays as a guard.
    if (rinfo.address !== ns.host || rinfo.port !== ns.port) {
      observer.dropped(ns, 'udp', 'wrong-source');
      return;
    }
    const r = decodeKnown(msg, q, id, known);
    if (typeof r === 'string') observer.dropped(ns, 'udp', r);
    else finish({ ...r, raw: msg });
  });
  const unreachable = (e: NodeJS.ErrnoException): void => {
    finish(unreachableError(ns, 'udp', e));
  };
  sock.on('error', unreachable);
  // Connected, so that an ICMP "port unreachable" ends the try at once.
  sock.connect(ns.port, ns.host, () => {
    if (!isOpen()) return;
    sock.send(encodeQuery(q, id), (e) => {
      if (e) unreachable(e);
    });
  });
  return { ns, transport: 'udp', close };
}

/** A try's end, once: `close` frees the socket (no outcome after it), `finish` frees it and hands `done` the outcome. */
function ending(
  release: () => void,
  done: (o: TryOutcome) => void,
): { close: () => void; finish: (o: TryOutcome) => void; isOpen: () => boolean } {
  let open = true;
  const close = (): void => {
    if (!open) return;
    open = false;
    release();
  };
  const finish = (o: TryOutcome): void => {
    if (!open) return;
    close();
    done(o);
  };
  return { close, finish, isOpen: () => open };
}

/** A nameserver that could not be reached: a refusal said as such over either transport. */
export function unreachableError(ns: Nameserver, transport: Transport, e: NodeJS.ErrnoException): DnsError {
  const why =
    e.code === 'ECONNREFUSED' ? `nothing listens there (${transport === 'udp' ? 'port unreachable' : 'connection refused'})` : e.message;
  return new DnsError('unreachable', `${describeNameserver(ns)}: ${why} (${transport})`, transport);
}

function tcpTry(ns: Nameserver, q: Question, observer: DnsObserver, known: KnownReply | undefined, done: (o: TryOutcome) => void): Try {
  const id = randomId();
  const where = describeNameserver(ns);
  const sock = net.connect(ns.port, ns.host);
  const frames = new TcpFrameReader();
  let received = 0;
  const { close, finish } = ending(() => sock.destroy(), done);
  sock.on('connect', () => sock.write(frameTcp(encodeQuery(q, id))));
  sock.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > TCP_READ_MAX) {
      finish(new DnsError('malformed', `${where}: more than ${String(TCP_READ_MAX)} bytes over TCP without an answer`, 'tcp'));
      return;
    }
    for (const message of frames.push(chunk)) {
      const r = decodeKnown(message, q, id, known);
      if (typeof r !== 'string') {
        finish({ ...r, raw: message });
        return;
      }
      observer.dropped(ns, 'tcp', r);
    }
    if (frames.pending > TCP_MAX + 2) finish(new DnsError('malformed', `${where}: oversized TCP stream`, 'tcp'));
  });
  sock.on('end', () => {
    finish(new DnsError('malformed', `${where} closed the TCP connection without a valid answer to ${q.type} ${q.name}`, 'tcp'));
  });
  sock.on('error', (e) => {
    finish(unreachableError(ns, 'tcp', e));
  });
  return { ns, transport: 'tcp', close };
}
