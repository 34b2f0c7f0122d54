// The one place that turns failures into HTTP replies: a JSON body saying what is
// wrong, with a stable code. Fastify's own errors (body too large, bad content type,
// malformed JSON) are mapped onto Herald's catalogue so clients see one format.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HeraldError, isHeraldError, type ErrorCode } from '../errors.js';
import { withResourceMetadata } from './resource-metadata.js';

export interface ErrorBody {
  readonly error: ErrorCode;
  readonly message: string;
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_VALIDATION: 'bad_request',
};

export function toHeraldError(error: unknown): HeraldError {
  if (isHeraldError(error)) return error;
  const fastifyError = error as Partial<FastifyError>;
  const code = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (code) return new HeraldError(code, fastifyError.message);
  if (fastifyError.statusCode === 400 || error instanceof SyntaxError) {
    return new HeraldError('bad_request', fastifyError.message ?? 'Malformed request');
  }
  if (fastifyError.statusCode === 413) return new HeraldError('payload_too_large');
  if (fastifyError.statusCode === 415) {
    return new HeraldError('bad_request', fastifyError.message ?? 'Unsupported content type');
  }
  return new HeraldError('bad_request', 'Unexpected failure');
}

export const JSON_TYPE = 'application/json; charset=utf-8';

export function errorBody(error: HeraldError): ErrorBody {
  return { ...error.details, error: error.code, message: error.message };
}

/** `metadataUrl`: the protected resource metadata a Bearer challenge names (resource-metadata.ts). */
export function sendError(reply: FastifyReply, error: HeraldError, metadataUrl?: string): FastifyReply {
  return reply.code(error.status).headers(withResourceMetadata(error.headers, metadataUrl)).type(JSON_TYPE).send(errorBody(error));
}

/** A failure as both doors answer it; `unexpected`: a bug rather than a refusal (logged as an error). */
export type Failure = { readonly unexpected: true } | { readonly unexpected: false; readonly error: HeraldError };

export function classifyFailure(error: unknown): Failure {
  const known = isHeraldError(error) || (error as Partial<FastifyError> | undefined)?.statusCode !== undefined;
  return known ? { unexpected: false, error: toHeraldError(error) } : { unexpected: true };
}

export const INTERNAL_ERROR_BODY = { error: 'internal', message: 'Internal error' } as const;

/** How a failure is logged, whichever door: a bug at error level, a 5xx refusal at warn. */
export function logFailure(log: { error(obj: object, msg: string): void; warn(obj: object, msg: string): void }, failure: Failure, error: unknown): void {
  if (failure.unexpected) log.error({ err: error }, 'unhandled error');
  else if (failure.error.status >= 500) log.warn({ code: failure.error.code }, failure.error.message);
}

export function registerErrorHandling(app: FastifyInstance, metadataUrl?: string): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const failure = classifyFailure(error);
    logFailure(request.log, failure, error);
    if (failure.unexpected) return reply.code(500).type(JSON_TYPE).send(INTERNAL_ERROR_BODY);
    return sendError(reply, failure.error, metadataUrl);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new HeraldError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}
