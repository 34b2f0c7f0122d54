// Builds the Fastify application around a Hub: plugins, error handling, routes.
// Routes stay thin; everything they decide is in hub/ (or chat/).
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import formbody from '@fastify/formbody';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyHttp2SecureOptions, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Hub } from '../hub/hub.js';
import { StatusSampler } from '../observability/status-sampler.js';
import type { Telemetry } from '../observability/telemetry.js';
import { registerCsrfGuard } from './csrf.js';
import { registerErrorHandling } from './errors.js';
import { discoveryLink, registerHomeRoute } from './home-route.js';
import { registerObservability, requestIdGenerator } from './metrics.js';
import { applyDeadlines } from './connection-deadlines.js';
import { sweepDeadPeers } from './dead-peers.js';
import { clientErrorHandler, createLimitLog, EdgeLimits, registerLimits } from './limits.js';
import { FrontDoor, type FrontDoorDeps } from './front-door.js';
import { installRawDoor, type RawDoor } from './wire/raw-door.js';
import { parseQueryString } from './parsers.js';
import { registerPublishRoute } from './publish-route.js';
import { metadataUrl, registerResourceMetadataRoute } from './resource-metadata.js';
import { trackRoutes } from './routes.js';
import { registerSecurityHeaders } from './security-headers.js';
import { registerStatusRoute } from './status-route.js';
import { registerSubscribeRoute } from './subscribe-route.js';
import { registerSubscriptionsRoute } from './subscriptions-route.js';
import { loadTls, tlsServerOptions } from './tls.js';

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
  const tls = await loadTls(config.tlsCert, config.tlsKey);
  const limitLog = createLimitLog(logger);
  // One instance of each edge concern, whichever door a request comes through.
  const requestId = requestIdGenerator();
  const csrfPolicy = { publicUrl: config.publicUrl, allowedOrigins: config.corsOrigins };
  const limits = new EdgeLimits({
    publishRate: config.publishRate,
    publishBurst: config.publishBurst,
    publishRateBy: config.publishRateBy,
    maxStreamsPerIp: config.maxSubscriptionsPerIp,
    maxStreams: config.maxConnections,
  }, limitLog);
  const door = frontDoorFor(config, tls === undefined, logger);
  const clientError = clientErrorHandler(limitLog);
  let rawDoor: RawDoor | undefined;
  const serverFactory = (handler: (req: IncomingMessage, res: ServerResponse) => void) => {
    const server = createServer(door!.listener(handler));
    if (config.rawFrontDoor) rawDoor = installRawDoor(server, door!);
    return server;
  };
  // With TLS the server is an HTTP/2 one (the routes see Http2ServerResponse objects);
  // the instance keeps the HTTP/1 type routes are written against.
  const options = {
    trustProxy: config.trustProxy,
    clientErrorHandler: clientError,
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimit,
    logController: new LogController({ disableRequestLogging: true }),
    // No socket inactivity timeout: event streams live for hours. The deadlines that
    // do apply (request head, request, keep-alive) are set by applyDeadlines.
    requestTimeout: config.requestTimeoutSeconds * 1000,
    connectionTimeout: 0,
    keepAliveTimeout: config.keepAliveTimeoutSeconds * 1000,
    http2SessionTimeout: config.keepAliveTimeoutSeconds * 1000,
    return503OnClosing: true,
    genReqId: requestId,
    routerOptions: { querystringParser: parseQueryString },
    ...(door === undefined ? {} : { serverFactory }),
  };
  const app = (tls === undefined ? Fastify(options) : Fastify({ ...options, ...tlsServerOptions(tls) } as unknown as FastifyHttp2SecureOptions<Http2SecureServer>)) as unknown as FastifyInstance;
  trackRoutes(app);
  const headArrived = applyDeadlines(app.server, {
    headerTimeoutMs: config.headerTimeoutSeconds * 1000,
    requestTimeoutMs: config.requestTimeoutSeconds * 1000,
    keepAliveTimeoutMs: config.keepAliveTimeoutSeconds * 1000,
    maxPendingPerIp: config.maxPendingPerIp,
    plainHttp: tls === undefined,
  }, limitLog);
  // After listen nobody else listens for 'error': an accept failing (EMFILE at the
  // fd limit, when libuv cannot shed it) would otherwise be an uncaught exception.
  app.server.on('error', (error: NodeJS.ErrnoException) => limitLog.note('accept_failed', error.code ?? 'unknown', { err: error.message }));
  registerErrorHandling(app, metadataUrl(config));
  registerSecurityHeaders(app);
  if (telemetry !== undefined) {
    registerObservability(app, { telemetry, metrics: config.metrics });
    if (config.statusPage) registerStatusRoute(app, { sampler: new StatusSampler({ hub, latency: telemetry.latency, log: logger }) });
  }
  await app.register(cookie);
  await app.register(formbody, { parser: parseQueryString });
  registerCsrfGuard(app, csrfPolicy);
  registerLimits(app, limits);
  if (config.corsOrigins.length > 0) {
    // Draft 08: a credentialed response names an origin of an explicit allowlist, never "*"
    // nor a reflected one. So "*" (alone, config.ts) means any origin WITHOUT credentials:
    // browsers then refuse to hand a cookie-authorised stream to another site's script.
    const any = config.corsOrigins.includes('*');
    await app.register(cors, {
      origin: any ? '*' : [...config.corsOrigins],
      credentials: !any,
      methods: ['GET', 'POST', 'QUERY', 'OPTIONS'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID', 'Cache-Control'],
      exposedHeaders: ['Last-Event-ID', 'Mercure-Last-Event-ID', 'Herald-Replay-Truncated', 'Herald-Subscriptions-Truncated', 'Link', 'Retry-After'],
    });
  }
  const streamHeaders = { Link: discoveryLink(config.publicUrl) };
  registerPublishRoute(app, hub);
  registerSubscribeRoute(app, hub, streamHeaders);
  if (door !== undefined) {
    doors.set(app, door);
    door.configure({
      hub,
      limits,
      csrf: csrfPolicy,
      requestId,
      telemetry,
      bodyLimit: config.bodyLimit,
      parseCookie: (header) => app.parseCookie(header),
      parseJson: app.getDefaultJsonParser(app.initialConfig.onProtoPoisoning ?? 'error', app.initialConfig.onConstructorPoisoning ?? 'error') as unknown as FrontDoorDeps['parseJson'],
      logger,
      streamHeaders,
      trustProxy: config.trustProxy,
      metadataUrl: metadataUrl(config),
    });
    if (rawDoor !== undefined) {
      rawDoors.set(app, rawDoor);
      rawDoor.configure({
        bodyLimit: config.bodyLimit,
        headerTimeoutMs: config.headerTimeoutSeconds * 1000,
        requestTimeoutMs: config.requestTimeoutSeconds * 1000,
        keepAliveTimeoutMs: config.keepAliveTimeoutSeconds * 1000,
        clientError,
        headArrived,
      });
    }
    app.addHook('preClose', (done) => {
      door.close();
      done();
    });
  }
  const stopDeadPeerSweep = sweepDeadPeers(hub, { retransmits: config.deadPeerRetransmits, logger });
  app.addHook('onClose', (_instance, done) => {
    stopDeadPeerSweep();
    done();
  });
  registerSubscriptionsRoute(app, hub);
  registerResourceMetadataRoute(app, config);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const { ready, store } = await hub.readiness();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', store });
  });
  if (apps.length === 0) registerHomeRoute(app, config.publicUrl);
  for (const plugin of apps) await app.register(plugin);
  return app;
}

const doors = new WeakMap<FastifyInstance, FrontDoor>();
const rawDoors = new WeakMap<FastifyInstance, RawDoor>();

/** The app's raw door (--raw-front-door), when it has one. */
export function rawDoorOf(app: FastifyInstance): RawDoor | undefined {
  return rawDoors.get(app);
}

/** The app's front door, when it has one (tests check which door served). */
export function frontDoorOf(app: FastifyInstance): FrontDoor | undefined {
  return doors.get(app);
}

/**
 * The front door serves plain HTTP/1 only, and stays out where it would need a second
 * implementation of something Fastify's plugins do: CORS (@fastify/cors) and the
 * request lines logged at debug level.
 */
function frontDoorFor(config: Config, plainHttp: boolean, logger: Logger): FrontDoor | undefined {
  if (!config.frontDoor || !plainHttp || config.corsOrigins.length > 0) return undefined;
  if (logger.isLevelEnabled('debug')) return undefined;
  return new FrontDoor();
}
