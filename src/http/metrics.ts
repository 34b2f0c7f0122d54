// The HTTP side of observability: request ids (in every log line Fastify writes for
// a request, as `reqId`, and echoed in X-Request-Id), publish outcomes counted,
// request lines at debug level, and GET /metrics (Prometheus text).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Telemetry } from '../observability/telemetry.js';
import { HUB_PATH } from './publish-route.js';

export const METRICS_PATH = '/metrics';
export const REQUEST_ID_HEADER = 'x-request-id';

/** Printable, no spaces or quotes, short: safe in a header and a log line. */
const SANE_ID = /^[A-Za-z0-9._~:@/+=-]{1,128}$/;

/**
 * A genReqId for Fastify. A proxy's or client's own X-Request-Id is kept when it
 * looks like an id, so one request can be followed across services. Fresh ids are a
 * per-process random prefix and a counter: unique across restarts and replicas,
 * and cheaper than a UUID per request.
 */
export function requestIdGenerator(): (request: Pick<IncomingMessage, 'headers'>) => string {
  const prefix = randomBytes(4).toString('hex');
  let next = 0;
  return (request) => {
    const incoming = request.headers[REQUEST_ID_HEADER];
    if (typeof incoming === 'string' && SANE_ID.test(incoming)) return incoming;
    next++;
    return `${prefix}-${next.toString(36)}`;
  };
}

export interface ObservabilityRoutesOptions {
  readonly telemetry: Telemetry;
  /** Serve GET /metrics (default true). */
  readonly metrics?: boolean;
}

export function registerObservability(app: FastifyInstance, { telemetry, metrics = true }: ObservabilityRoutesOptions): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  const debug = app.log.level === 'debug' || app.log.level === 'trace';
  if (debug) {
    app.addHook('onRequest', (request, reply, done) => {
      request.log.debug({ req: request }, 'request received');
      // Event streams write past Fastify (onResponse never comes): their end is the close.
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) request.log.debug({ responseTime: Math.round(reply.elapsedTime) }, 'stream closed');
      });
      done();
    });
  }
  app.addHook('onResponse', (request, reply, done) => {
    if (request.method === 'POST' && request.routeOptions.url === HUB_PATH) telemetry.publishAnswered(reply.statusCode);
    if (debug) request.log.debug({ res: { statusCode: reply.statusCode }, responseTime: Math.round(reply.elapsedTime) }, 'request completed');
    done();
  });
  if (metrics) {
    app.get(METRICS_PATH, async (_request, reply) =>
      reply.header('Cache-Control', 'no-store').type(telemetry.contentType).send(await telemetry.scrape()),
    );
  }
}
