// The one place that turns failures into HTTP replies: a JSON body saying what is
// wrong, with a stable code. Fastify's own errors (body too large, bad content type,
// malformed JSON) are mapped onto Herald's catalogue so clients see one format.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HeraldError, isHeraldError, type ErrorCode } from '../errors.js';

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

export function sendError(reply: FastifyReply, error: HeraldError): FastifyReply {
  const body: ErrorBody = { ...error.details, error: error.code, message: error.message };
  return reply.code(error.status).headers(error.headers).type('application/json; charset=utf-8').send(body);
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const known = isHeraldError(error) || (error as Partial<FastifyError>).statusCode !== undefined;
    if (!known) {
      request.log.error({ err: error }, 'unhandled error');
      return reply.code(500).type('application/json; charset=utf-8').send({ error: 'internal', message: 'Internal error' });
    }
    const herald = toHeraldError(error);
    if (herald.status >= 500) request.log.warn({ code: herald.code }, herald.message);
    return sendError(reply, herald);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new HeraldError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}
