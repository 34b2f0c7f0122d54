// Builds the Fastify application around a Hub: plugins, error handling, routes.
// Routes stay thin; everything they decide is in hub/ (or chat/).
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Hub } from '../hub/hub.js';
import { requestIdGenerator } from '../observability/request-id.js';
import { StatusSampler } from '../observability/status-sampler.js';
import type { Telemetry } from '../observability/telemetry.js';
import { registerErrorHandling } from './errors.js';
import { discoveryLink, registerHomeRoute } from './home-route.js';
import { registerObservability } from './metrics.js';
import { registerPublishRoute } from './publish-route.js';
import { registerStatusRoute } from './status-route.js';
import { registerSubscribeRoute } from './subscribe-route.js';
import { registerSubscriptionsRoute } from './subscriptions-route.js';

export interface ServerOptions {
  readonly config: Config;
  readonly hub: Hub;
  readonly logger: Logger;
  /** Applications mounted beside the hub (the chat); when given, they own `/`. */
  readonly apps?: readonly FastifyPluginAsync[];
  /** The process's metrics (absent: no /metrics, no /status). */
  readonly telemetry?: Telemetry;
}

export async function buildServer({ config, hub, logger, apps = [], telemetry }: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimit,
    disableRequestLogging: true,
    // Event streams live for hours; only idle keep-alive sockets time out.
    requestTimeout: 0,
    connectionTimeout: 0,
    keepAliveTimeout: 72_000,
    return503OnClosing: true,
    genReqId: requestIdGenerator(),
  });
  registerErrorHandling(app);
  if (telemetry !== undefined) {
    registerObservability(app, { telemetry, metrics: config.metrics });
    if (config.statusPage) registerStatusRoute(app, { sampler: new StatusSampler({ hub, latency: telemetry.latency }) });
  }
  await app.register(cookie);
  await app.register(formbody);
  if (config.corsOrigins.length > 0) {
    const any = config.corsOrigins.includes('*');
    await app.register(cors, {
      // With credentials a literal "*" is not allowed: the request's origin is echoed instead.
      origin: any ? true : [...config.corsOrigins],
      credentials: true,
      methods: ['GET', 'POST', 'OPTIONS'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID', 'Cache-Control'],
      exposedHeaders: ['Last-Event-ID', 'Mercure-Last-Event-ID', 'Link', 'Retry-After'],
    });
  }
  registerPublishRoute(app, hub);
  registerSubscribeRoute(app, hub, { Link: discoveryLink(config.publicUrl) });
  registerSubscriptionsRoute(app, hub);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = await hub.options.broker.isReady();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', store: hub.options.broker.description });
  });
  if (apps.length === 0) registerHomeRoute(app, config.publicUrl);
  for (const plugin of apps) await app.register(plugin);
  return app;
}
