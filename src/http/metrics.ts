// The HTTP side of observability: request ids echoed to clients, publish outcomes
// counted, request lines at debug level, and GET /metrics (Prometheus text).
import type { FastifyInstance } from 'fastify';
import { REQUEST_ID_HEADER } from '../observability/request-id.js';
import type { Telemetry } from '../observability/telemetry.js';
import { HUB_PATH } from './publish-route.js';

export const METRICS_PATH = '/metrics';

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
