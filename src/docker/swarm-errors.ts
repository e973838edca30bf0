/**
 * Errors the Swarm gateways throw. Use cases turn them into deployment
 * failures (the message is written for a person) or retries (`retryable`).
 * Classification uses the engine's HTTP status, never its message text.
 */
export type SwarmErrorCode =
  /** The image could not be pulled (the 200 stream carried an {error} event). */
  | 'IMAGE_PULL_FAILED'
  /** The build stream carried an errorDetail; `details.log` holds the last lines. */
  | 'BUILD_FAILED'
  /** 409 from the engine: a name is taken or the spec version moved on. */
  | 'CONFLICT'
  /** 404 where the object had to exist (e.g. rollback of a missing service). */
  | 'NOT_FOUND'
  /** A network or volume still in use after the retry bound. */
  | 'IN_USE'
  /** 400 from the engine: the spec itself is wrong. */
  | 'INVALID_SPEC'
  /** Anything else: engine down, 5xx, socket errors. */
  | 'ENGINE_ERROR';

export class SwarmError extends Error {
  constructor(
    readonly code: SwarmErrorCode,
    message: string,
    readonly options: { statusCode?: number; retryable?: boolean; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'SwarmError';
  }

  get statusCode(): number | undefined {
    return this.options.statusCode;
  }

  get retryable(): boolean {
    return this.options.retryable ?? false;
  }

  get details(): Record<string, unknown> {
    return this.options.details ?? {};
  }
}

export function isSwarmError(error: unknown, code?: SwarmErrorCode): error is SwarmError {
  return error instanceof SwarmError && (code === undefined || error.code === code);
}

/** The HTTP status docker-modem attached to an error, if any. */
export function statusCodeOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

export function isNotFound(error: unknown): boolean {
  return statusCodeOf(error) === 404;
}

/** The engine's own message ({"message": ...}) without docker-modem's "(HTTP code N)" prefix. */
export function engineMessage(error: unknown): string {
  const json = (error as { json?: unknown } | null)?.json;
  if (json && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string') {
    return (json as { message: string }).message;
  }
  if (Buffer.isBuffer(json)) return json.toString('utf8').trim();
  return error instanceof Error ? error.message : String(error);
}

/** Wraps an engine error by status: 409 conflict, 400 invalid, 404 not found, else engine error. */
export function toSwarmError(error: unknown, action: string): SwarmError {
  if (error instanceof SwarmError) return error;
  const statusCode = statusCodeOf(error);
  const message = `${action}: ${engineMessage(error)}`;
  switch (statusCode) {
    case 400:
      return new SwarmError('INVALID_SPEC', message, { statusCode, cause: error });
    case 404:
      return new SwarmError('NOT_FOUND', message, { statusCode, cause: error });
    case 409:
      return new SwarmError('CONFLICT', message, { statusCode, retryable: true, cause: error });
    default:
      return new SwarmError('ENGINE_ERROR', message, { statusCode, retryable: true, cause: error });
  }
}
