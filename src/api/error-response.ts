import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, isAppError } from '../core/errors.js';
import type { Logger } from '../logging/logger.js';

/** SPEC section 4: every error carries all five fields. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    details: Record<string, unknown>;
    suggestions: string[];
    retryable: boolean;
  };
}

export function toErrorBody(error: AppError): ErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      details: error.details,
      suggestions: error.suggestions,
      retryable: error.retryable,
    },
  };
}

/** body-parser reports its own failures with a `type`; map those to SPEC errors. */
function fromBodyParser(error: { type?: string; status?: number; limit?: number }): AppError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new AppError('MALFORMED_JSON', 'The request body is not valid JSON', {
        status: 400,
        suggestions: ['Send a JSON object with Content-Type: application/json'],
      });
    case 'entity.too.large':
      return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large', {
        status: 413,
        details: { limitBytes: error.limit },
      });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('UNSUPPORTED_ENCODING', 'The request body encoding is not supported', { status: 415 });
    default:
      return undefined;
  }
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new AppError('ROUTE_NOT_FOUND', `No route for ${req.method} ${req.path}`, {
    status: 404,
    suggestions: ['See /openapi.json for the routes this API serves'],
  }));
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const appError = isAppError(error)
      ? error
      : fromBodyParser(error) ??
        new AppError('INTERNAL_ERROR', 'Something went wrong on our side', { status: 500, cause: error });
    if (appError.status >= 500) {
      logger.error({ err: error, method: req.method, path: req.path }, 'request failed');
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    const retryAfter = appError.details.retryAfterSeconds;
    if (appError.status === 429 && typeof retryAfter === 'number') {
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(retryAfter))));
    }
    res.status(appError.status).json(toErrorBody(appError));
  };
}
