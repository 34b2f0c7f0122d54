// Assembles one Herald process from a Config: broker, authenticator, hub, HTTP
// server. Used by the CLI and by end-to-end tests (which start it on port 0).
import cluster from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createBroker, storeKind } from './broker/create.js';
import type { Broker } from './broker/types.js';
import { chatApp } from './chat/plugin.js';
import { assertSessionAlgorithm } from './chat/session.js';
import type { Config } from './config.js';
import { createAuthenticator, readIssuersFile } from './hub/auth/authenticator.js';
import { Hub } from './hub/hub.js';
import { buildServer } from './http/server.js';
import { createLogger } from './log.js';
import { madeUpSubscriberKey, sharedSubscriberKey, type MadeUpKey } from './made-up-key.js';
import { freePort } from './ports.js';
import { Telemetry } from './observability/telemetry.js';

export interface Herald {
  readonly app: FastifyInstance;
  readonly hub: Hub;
  readonly broker: Broker;
  /** The address it listens on, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** The key that signs and verifies subscriber tokens (configured, or made up for this process). */
  readonly subscriberKey: string;
  /** Its metrics (served at /metrics). */
  readonly telemetry: Telemetry;
  close(): Promise<void>;
}

/**
 * With --port 0 and no --public-url, the derived public URL would say `localhost:0`
 * (in the discovery Link and the hub's own URL): pick the free port first. Cluster
 * workers keep port 0, which node:cluster shares among them.
 */
async function withConcretePort(config: Config): Promise<Config> {
  if (config.port !== 0 || !cluster.isPrimary || !/^https?:\/\/localhost:0$/.test(config.publicUrl)) return config;
  const port = await freePort(config.host);
  return { ...config, port, publicUrl: config.publicUrl.replace(/:0$/, `:${port}`) };
}

/** The made-up subscriber key every process on this Redis store shares. */
async function redisSubscriberKey(config: Config): Promise<MadeUpKey> {
  // Imported here: a hub without Redis never loads ioredis.
  const { withRedisClient } = await import('./broker/redis/connection.js');
  return withRedisClient(config.store, (redis) => sharedSubscriberKey(redis, config.redisPrefix));
}

export async function startHerald(given: Config, logger: Logger = createLogger(given.logLevel)): Promise<Herald> {
  const config = await withConcretePort(given);
  // Before anything is opened: an RS256 hub with the chat would answer 500 on every session.
  if (config.chat) assertSessionAlgorithm(config.jwtAlg);
  // Wrapped so every store call is counted (metrics) without the brokers knowing.
  const telemetry = new Telemetry({ logger });
  const broker = telemetry.wrap(await createBroker(config.store, {
    retention: { maxPerTopic: config.historyMaxPerTopic, maxAgeSeconds: config.historyMaxAgeSeconds, maxTotal: config.historyMaxTotal, maxPresence: config.presenceHistory },
    logger,
    redisPrefix: config.redisPrefix,
    redisReplicasAck: config.redisReplicasAck,
    redisLogBuckets: config.redisLogBuckets,
    redisInterest: config.redisInterest,
  }));
  // Subscribers' tokens (the chat's cookies among them) need a key even when the
  // operator configured none; a made-up one serves a single process only.
  const madeUpKey = config.subscriberJwtKey === undefined && config.publisherJwtKey === undefined;
  const shared = storeKind(config.store)?.shared === true;
  const madeUp = !madeUpKey ? undefined : shared ? await redisSubscriberKey(config) : madeUpSubscriberKey(config.store);
  const subscriberKey = config.subscriberJwtKey ?? config.publisherJwtKey ?? madeUp!.key;
  if (madeUp !== undefined && config.jwksUrl === undefined && config.jwtIssuersFile === undefined) {
    const kept = madeUp.redisKey !== undefined ? `and kept in Redis (${madeUp.redisKey}), shared by every process` : madeUp.file !== undefined ? `and kept in ${madeUp.file}` : 'for this process';
    logger.warn({ keyFile: madeUp.file, redisKey: madeUp.redisKey }, `no JWT key configured: publishing over HTTP is disabled; subscriber tokens use a key made up ${kept}`);
  }
  const authenticator = await createAuthenticator({
    publisherKey: config.publisherJwtKey,
    // A made-up secret is an HMAC key: with a public-key algorithm (and a key set) it has no use.
    subscriberKey: madeUpKey && !config.jwtAlg.startsWith('HS') ? undefined : subscriberKey,
    algorithm: config.jwtAlg,
    hubUrl: config.publicUrl,
    jwksUrl: config.jwksUrl,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    ...(config.jwtIssuersFile === undefined ? {} : { issuers: await readIssuersFile(config.jwtIssuersFile) }),
    profile: config.mercureProfile,
    queryTokens: config.queryTokens,
  });
  // The hub reads its settings from the Config by their Config names (HubSettings).
  const hub = await Hub.create({ broker, authenticator, settings: config, logger });
  telemetry.attach(hub);
  const apps = config.chat ? [chatApp({ hub, subscriberKey, settings: config })] : [];
  const app = await buildServer({ config, hub, logger, apps, telemetry });
  let address: string;
  try {
    address = await app.listen({ port: config.port, host: config.host, backlog: config.listenBacklog });
  } catch (error) {
    await hub.close();
    await broker.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    app,
    hub,
    broker,
    url: address,
    subscriberKey,
    telemetry,
    close: () =>
      (closing ??= (async () => {
        await hub.close();
        await app.close();
        await broker.close();
      })()),
  };
}
