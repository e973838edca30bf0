/**
 * Why a certificate could not be obtained, in terms a person can act on.
 * acme-client reports failures as plain messages (and, when the CA cannot be
 * reached, as "Cannot read properties of undefined (reading 'config')" after
 * ~75 s of retries), so Runway classifies from the ACME problem type and the
 * underlying network error instead.
 */
export type AcmeFailureReason =
  /** The CA could not resolve the hostname (no A/AAAA record, SERVFAIL, NXDOMAIN). */
  | 'DOMAIN_DOES_NOT_RESOLVE'
  /** The CA resolved the name but could not fetch the HTTP-01 token from this server. */
  | 'CHALLENGE_UNREACHABLE'
  /** The CA answered but refused: rate limit, policy, CAA, bad request. */
  | 'CA_REFUSED'
  /** Runway could not talk to the CA at all (network, TLS trust). */
  | 'CA_UNREACHABLE'
  /** Runway's own weekly order budget for the registered domain is used up. */
  | 'ORDER_BUDGET_EXHAUSTED';

const ADVICE: Record<AcmeFailureReason, string> = {
  DOMAIN_DOES_NOT_RESOLVE: 'Create an A (or AAAA) record for the domain that points at this server, then retry.',
  CHALLENGE_UNREACHABLE: 'Make sure port 80 of this server is reachable from the internet for this domain (firewall, DNS pointing elsewhere).',
  CA_REFUSED: 'Read the CA\'s message; rate limits clear after a while, policy refusals need another domain.',
  CA_UNREACHABLE: 'Check ACME_DIRECTORY_URL, outbound network access and ACME_CA_CERT.',
  ORDER_BUDGET_EXHAUSTED: 'Runway retries on its own once the weekly budget allows another order.',
};

export class AcmeFailure extends Error {
  readonly code = 'ACME_FAILED';
  readonly advice: string;

  constructor(readonly reason: AcmeFailureReason, detail: string, options: { cause?: unknown; retryAt?: Date } = {}) {
    super(detail, { cause: options.cause });
    this.name = 'AcmeFailure';
    this.advice = ADVICE[reason];
    this.retryAt = options.retryAt;
  }

  /** When a retry makes sense at the earliest (the budget's reopening), if known. */
  readonly retryAt?: Date;

  /** One line for Domain.reason and chat: the reason, what happened, what to do. */
  describe(): string {
    return `${this.reason}: ${this.message}. ${this.advice}`;
  }
}

const DNS_TYPES = new Set(['dns']);
const UNREACHABLE_TYPES = new Set(['connection', 'unauthorized', 'incorrectResponse', 'tls']);

/**
 * Resolution failures some CAs report as `connection` problems (Pebble:
 * "could not resolve URL"); Let's Encrypt uses the `dns` type ("DNS problem:
 * NXDOMAIN ..."). The type decides first; only a `connection` detail is read.
 */
const RESOLUTION_DETAIL = /could not resolve|no such host|NXDOMAIN|SERVFAIL|no valid A records|DNS problem/i;

/** Maps an RFC 8555 problem (`urn:ietf:params:acme:error:<type>` and its detail) to a reason. */
export function reasonForProblem(type: string | undefined, detail = ''): AcmeFailureReason {
  const short = (type ?? '').replace('urn:ietf:params:acme:error:', '');
  if (DNS_TYPES.has(short)) return 'DOMAIN_DOES_NOT_RESOLVE';
  if (short === 'connection' && RESOLUTION_DETAIL.test(detail)) return 'DOMAIN_DOES_NOT_RESOLVE';
  if (UNREACHABLE_TYPES.has(short)) return 'CHALLENGE_UNREACHABLE';
  return 'CA_REFUSED';
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The first error in a cause chain that carries a Node network/TLS code. */
export function networkCause(error: unknown): { code: string; message: string } | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 6; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return { code, message: (current as Error).message };
    const nested = (current as { errors?: unknown[] }).errors?.[0];
    current = (current as { cause?: unknown }).cause ?? nested;
  }
  return undefined;
}

/** Anything thrown while ordering, as an AcmeFailure. */
export function toAcmeFailure(error: unknown, directoryUrl: string): AcmeFailure {
  if (error instanceof AcmeFailure) return error;
  const network = networkCause(error);
  if (network) {
    return new AcmeFailure('CA_UNREACHABLE', `cannot reach the ACME CA at ${directoryUrl}: ${network.message} (${network.code})`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  if (message.includes("reading 'config'")) {
    return new AcmeFailure('CA_UNREACHABLE', `cannot reach the ACME CA at ${directoryUrl} (network error after retries)`, { cause: error });
  }
  return new AcmeFailure('CA_REFUSED', message, { cause: error });
}
