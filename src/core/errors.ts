/**
 * Transport-independent errors. Use cases throw these; each edge translates
 * them once (Express -> SPEC section 4 JSON, bots -> a chat reply, workers ->
 * fail or retry the job).
 */
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'GONE'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'DEPENDENCY_UNAVAILABLE'
  | 'INTERNAL_ERROR'
  | (string & {});

export interface AppErrorOptions {
  /** HTTP status the REST edge answers with. */
  status?: number;
  details?: Record<string, unknown>;
  suggestions?: string[];
  /** Whether the same request may succeed if tried again later. */
  retryable?: boolean;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown>;
  readonly suggestions: string[];
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status ?? 500;
    this.details = options.details ?? {};
    this.suggestions = options.suggestions ?? [];
    this.retryable = options.retryable ?? false;
  }
}

type Extra = Omit<AppErrorOptions, 'status'>;

export const badRequest = (message: string, extra: Extra = {}) =>
  new AppError('VALIDATION_FAILED', message, { ...extra, status: 400 });
export const unauthorized = (message = 'A valid API key is required', extra: Extra = {}) =>
  new AppError('UNAUTHORIZED', message, { ...extra, status: 401 });
export const forbidden = (message: string, extra: Extra = {}) =>
  new AppError('FORBIDDEN', message, { ...extra, status: 403 });
export const notFound = (what: string, extra: Extra = {}) =>
  new AppError('NOT_FOUND', `${what} not found`, { ...extra, status: 404 });
export const conflict = (message: string, extra: Extra = {}) =>
  new AppError('CONFLICT', message, { ...extra, status: 409 });
export const gone = (message: string, extra: Extra = {}) =>
  new AppError('GONE', message, { ...extra, status: 410 });
export const rateLimited = (retryAfterSeconds: number, extra: Extra = {}) =>
  new AppError('RATE_LIMITED', `Too many requests; retry in ${retryAfterSeconds}s`, {
    ...extra,
    status: 429,
    retryable: true,
    details: { retryAfterSeconds, ...extra.details },
  });
export const unavailable = (dependency: string, extra: Extra = {}) =>
  new AppError('DEPENDENCY_UNAVAILABLE', `${dependency} is unavailable`, {
    ...extra,
    status: 503,
    retryable: true,
  });

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
