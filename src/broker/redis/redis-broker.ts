// The Redis broker: lets many Herald processes share one log, fan-out and presence.
// A Redis Stream is the global log (redis-log.ts), each process follows it with one
// blocking reader (redis-reader.ts), presence is per-node hashes (redis-presence.ts).
// docs/redis.md explains the key layout and the reasons.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { HeraldError, isHeraldError } from '../../errors.js';
import { bucketTags, checkLayout } from './buckets.js';
import { claimScripts } from './claim-scripts.js';
import { RedisClock } from './clock.js';
import { closeConnection, COMMAND_TIMEOUT_MS, describeRedisUrl, loadScripts, openRedisConnections, probeSlots, storeError } from './connection.js';
import { redisKeys } from './keys.js';
import { RedisLog } from './log.js';
import { MergedReader } from './merged-reader.js';
import { alternateScript, readAlternates } from './alternates.js';
import { ShardedLog } from './sharded-log.js';
import { RedisPresence } from './presence.js';
import { awaitReplicas } from './replicas.js';
import { StreamReader } from './reader.js';
import { publishScript, tickReadScript, tickScript } from './publish-script.js';
import { presenceScripts } from './scripts.js';
import { DEFAULT_MAX_PRESENCE, type Broker, type RetentionOptions, type SubscriptionRecord, type Unsubscribe, type Update } from '../types.js';

export interface RedisBrokerOptions {
  /** `redis://[user:pass@]host:port/db`, `rediss://...` (TLS), `redis-sentinel://...` or `redis-cluster://...` (see target.ts). */
  readonly url: string;
  /** Prepended to every key, so several hubs can share one Redis. */
  readonly prefix: string;
  readonly retention: RetentionOptions;
  readonly logger?: Logger;
  /** Identifies this process in presence; default a random UUID per process. */
  readonly nodeId?: string;
  /** Clock for publish times and age retention; default Date.now. */
  readonly now?: () => number;
  /** A process that has not heart-beaten for this long is dead; default 15 000 ms. */
  readonly presenceTtlMs?: number;
  /**
   * How long an update trimmed by retention stays in the stream, on the `now` clock, so
   * that a process lagging behind a burst still delivers it live; default 30 000 ms.
   */
  readonly trimGraceMs?: number;
  /**
   * Presence events past the presence cap that may still wait out `trimGraceMs` in the
   * stream; beyond this many they are deleted at once, so churn cannot grow Redis with
   * its rate. Default 10 000.
   */
  readonly presenceBacklog?: number;
  /** Replicas that must hold each published update before publish resolves (WAIT); default 0. */
  readonly replicasAck?: number;
  /** Buckets of the log (--redis-log-buckets), each its own hash slot; default 1 (the unsharded `{log}`). */
  readonly logBuckets?: number;
  /**
   * With buckets: deliver only the buckets that `follow()` asked for (interest filtering);
   * default false, every update reaches onUpdate as the Broker contract says.
   */
  readonly interest?: boolean;
}

/** The Broker plus a test hook that kills this "process" without a goodbye. */
export interface RedisBroker extends Broker {
  readonly nodeId: string;
  /** Stops heartbeats and the reader and drops connections WITHOUT removing presence, like a crash. */
  simulateCrash(): Promise<void>;
  /** One presence heartbeat and sweep now, as the timer does (tests: a frozen process waking up). */
  heartbeatNow(): Promise<void>;
}

// Generous: during a reshard a probe may follow a few redirections.
const READY_TIMEOUT_MS = 1000;

export async function createRedisBroker(opts: RedisBrokerOptions): Promise<RedisBroker> {
  const description = describeRedisUrl(opts.url);
  const { logger } = opts;
  const keys = redisKeys(opts.prefix);
  const replicasAck = opts.replicasAck ?? 0;
  const logBuckets = opts.logBuckets ?? 1;
  const bucketKeys = bucketTags(logBuckets).map((tag) => redisKeys(opts.prefix, tag));
  const { commands, reader, openBlocking } = await openRedisConnections(opts.url, description, logger);
  const updateListeners = new Set<(update: Update) => void>();
  const expiryListeners = new Set<(records: SubscriptionRecord[]) => void>();
  const restoreListeners = new Set<(records: SubscriptionRecord[]) => void>();

  const deliver = (update: Update): void => {
    for (const listener of updateListeners) {
      try {
        listener(update);
      } catch (error) {
        logger?.error({ err: error, updateId: update.id }, 'an onUpdate listener threw');
      }
    }
  };
  const notify = (listeners: Set<(records: SubscriptionRecord[]) => void>, name: string) => (records: SubscriptionRecord[]): void => {
    for (const listener of listeners) {
      try {
        listener(records);
      } catch (error) {
        logger?.error({ err: error }, `an ${name} listener threw`);
      }
    }
  };

  const clock = new RedisClock(commands, logger);
  const now = opts.now ?? Date.now;
  const sharded = logBuckets > 1;
  // Buckets: µs entry times, strictly increasing per process, so its own publishes keep
  // their call order across buckets (docs/redis.md); one bucket: ms, as always.
  let lastStamp = 0;
  const stamp = sharded ? (atLeast = 0) => (lastStamp = Math.max(Math.floor(now() * 1000), lastStamp + 1, atLeast)) : () => Math.max(0, Math.floor(now()));
  // Retention caps are per bucket: an even share of the deployment's.
  const share = (n: number): number => (sharded ? Math.ceil(n / logBuckets) : n);
  const bucketOptions = {
    retention: { ...opts.retention, maxTotal: share(opts.retention.maxTotal), maxPresence: share(opts.retention.maxPresence ?? DEFAULT_MAX_PRESENCE) },
    now,
    unit: sharded ? 1000 : 1,
    stamp,
    trimGraceMs: opts.trimGraceMs ?? 30_000,
    presenceBacklog: share(opts.presenceBacklog ?? 10_000),
    ...(logger ? { logger } : {}),
  };
  const logs = bucketKeys.map((k) => new RedisLog(commands, k, clock, bucketOptions));
  const log = new ShardedLog(commands, logs, bucketKeys, () => clock.deadline(COMMAND_TIMEOUT_MS - 250));
  const streamReader = sharded ? new MergedReader(commands, bucketKeys, openBlocking, deliver, logger,
      (topics) => readAlternates(commands, bucketKeys, topics.map((t) => [t, log.bucketOf(t)] as const))) : new StreamReader(reader, commands, keys.stream, deliver, logger);
  const interest = sharded && opts.interest === true;
  const presence = new RedisPresence(commands, keys, opts.nodeId ?? randomUUID(), opts.presenceTtlMs ?? 15_000,
    notify(expiryListeners, 'onSubscriptionsExpired'), notify(restoreListeners, 'onSubscriptionsRestored'), logger);
  try {
    await checkLayout(commands, opts.prefix, logBuckets, keys.meta);
    await loadScripts(commands, [publishScript, tickScript, tickReadScript, alternateScript, ...claimScripts, ...presenceScripts].map((script) => script.source));
    await clock.start();
    if (streamReader instanceof MergedReader) {
      // One blocking connection per followed bucket, opened as they are followed.
      reader.disconnect();
      if (!interest) await streamReader.followAll();
    } else {
      await streamReader.start();
    }
    await presence.start();
  } catch (error) {
    clock.stop();
    await presence.stop(false);
    await streamReader.stop();
    reader.disconnect();
    commands.disconnect();
    throw unavailable(error, 'the broker could not start');
  }

  let closing: Promise<void> | null = null;
  const shutdown = (leave: boolean): Promise<void> => {
    closing ??= (async () => {
      // Publishes still waiting for their turn to be sent are stored first.
      if (leave) await log.settle();
      clock.stop();
      await presence.stop(leave).catch((error: unknown) => logger?.warn({ err: error }, 'could not remove this node from redis presence'));
      await streamReader.stop();
      if (leave) await closeConnection(commands);
      else commands.disconnect();
    })();
    return closing;
  };

  return {
    description,
    nodeId: presence.nodeId,
    publish: async (update) => {
      if (closing) throw new HeraldError('store_unavailable', 'The Redis broker is closed; the update was not published');
      await log.publish(update);
      await awaitReplicas(commands, bucketKeys[log.bucketOf(update.topics[0] ?? '')]!.stream, replicasAck).catch((error: unknown) => {
        logger?.warn({ err: error, updateId: update.id }, 'redis replicas did not confirm a publish');
        throw error;
      });
    },
    publishPresence: async (update) => {
      if (closing) throw new HeraldError('store_unavailable', 'The Redis broker is closed; the presence event was not published');
      await log.publish(update, true);
    },
    onUpdate(listener) {
      updateListeners.add(listener);
      return once(() => updateListeners.delete(listener));
    },
    follow: async (topics) => {
      if (!interest || !(streamReader instanceof MergedReader)) return () => {};
      const release = await guarded(() => (topics === 'all' ? streamReader.follow('all') : streamReader.follow(topics.map((t) => log.bucketOf(t)), topics)), 'follow');
      return once(release);
    },
    history: (query) => guarded(() => log.history(query), 'history'),
    caughtUp: () => guarded(() => streamReader.caughtUp(), 'caughtUp'),
    lastEventId: () => guarded(() => log.lastEventId(), 'lastEventId'),
    addSubscriptions: (records) => guarded(() => presence.add(records), 'addSubscriptions'),
    removeSubscriptions: (ids) => guarded(() => presence.remove(ids), 'removeSubscriptions'),
    listSubscriptions: () => guarded(() => presence.list(), 'listSubscriptions'),
    getSubscription: (id) => guarded(() => presence.get(id), 'getSubscription'),
    scanSubscriptions: (scan) => guarded(() => presence.scan(scan), 'scanSubscriptions'),
    onSubscriptionsExpired(listener) {
      expiryListeners.add(listener);
      return once(() => expiryListeners.delete(listener));
    },
    onSubscriptionsRestored(listener) {
      restoreListeners.add(listener);
      return once(() => restoreListeners.delete(listener));
    },
    // A command on a key of each hash slot the broker writes, not PING: a Cluster whose
    // slot has no reachable owner, or is moving for longer than the retry bound, is not ready.
    isReady: async () => !closing && (await probeSlots(commands, [...bucketKeys.map((k) => k.meta), keys.nodes], READY_TIMEOUT_MS)),
    close: () => shutdown(true),
    simulateCrash: () => shutdown(false),
    heartbeatNow: () => presence.tick(),
  };

  async function guarded<T>(operation: () => Promise<T>, name: string): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw unavailable(error, `${name} failed`);
    }
  }

  function unavailable(error: unknown, message: string): HeraldError {
    if (isHeraldError(error)) return error;
    logger?.warn({ err: error }, message);
    return storeError(error, message);
  }
}

function once(action: () => void): Unsubscribe {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    action();
  };
}
