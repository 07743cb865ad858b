/**
 * Every error the agent raises on purpose. `code` is stable (tests use it); `soft` errors
 * are transient: logged, counted, retried on the next pass, and never a reason to touch a
 * server. Hard errors end the process.
 */
export abstract class AgentError extends Error {
  abstract readonly code: `AGENT_${string}`;
  abstract readonly soft: boolean;
}

/** The command line or environment is wrong: one line on stderr, exit 2. */
export class UsageError extends AgentError {
  readonly code = 'AGENT_USAGE';
  readonly soft = false;
  override readonly name = 'UsageError';
}

/** The --listen address cannot be listened on (in use, not allowed, not this host's): one line on stderr, exit 1. */
export class ListenError extends AgentError {
  readonly code = 'AGENT_LISTEN';
  readonly soft = false;
  override readonly name = 'ListenError';
}

/** HAProxy's configuration cannot work with the agent (no admin level, FQDN slots, no backend). */
export class HaproxyConfigError extends AgentError {
  readonly code = 'AGENT_HAPROXY_CONFIG';
  readonly soft = false;
  override readonly name = 'HaproxyConfigError';
}

/** The socket is missing, refuses, times out or closes early: HAProxy may be starting or reloading. */
export class HaproxyUnavailableError extends AgentError {
  readonly code = 'AGENT_HAPROXY_UNAVAILABLE';
  readonly soft = true;
  override readonly name = 'HaproxyUnavailableError';
  /** The commands were written before it failed: HAProxy may have run them. */
  readonly sent: boolean;
  constructor(message: string, sent = false) {
    super(message);
    this.sent = sent;
  }
}

/** HAProxy answered something the agent cannot read with certainty. */
export class HaproxyProtocolError extends AgentError {
  readonly code = 'AGENT_HAPROXY_PROTOCOL';
  readonly soft: boolean;
  override readonly name = 'HaproxyProtocolError';
  constructor(message: string, soft: boolean) {
    super(message);
    this.soft = soft;
  }
}

/** The DNS server did not give a usable answer (timeout, SERVFAIL, REFUSED, malformed...). */
export class DnsError extends AgentError {
  readonly code = 'AGENT_DNS';
  readonly soft = true;
  override readonly name = 'DnsError';
  /** Short class for metrics and logs: timeout, servfail, refused, malformed, unreachable, ... */
  readonly kind: string;
  /** The transport the failure happened on, when it happened on one. */
  readonly transport: 'udp' | 'tcp' | null;
  constructor(kind: string, message: string, transport: 'udp' | 'tcp' | null = null) {
    super(message);
    this.kind = kind;
    this.transport = transport;
  }
}
