// Opens the Redis broker's connections, whatever the topology behind the --store URL:
// one standalone server, a primary found through Sentinel, or a Redis Cluster. The
// rest of the broker sees a RedisClient and does not care which: every script and
// multi-key command touches keys of one hash slot, which a Cluster client routes.
//
// Two connections at least: one for commands (must fail fast so a publish never hangs
// while Redis is away) and one per blocking XREAD loop (a blocked connection serves
// nobody else; on a Cluster that would stall every command to that node).
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { HeraldError } from '../../errors.js';
import { parseRedisStore, type RedisTarget } from './target.js';

export { describeRedisUrl, parseRedisStore, type RedisTarget } from './target.js';

/** What the broker's modules talk to: a single server's client or a Cluster client. */
export type RedisClient = Redis | Cluster;

/** A publish or presence call gives up after this long on a connected but silent server. */
export const COMMAND_TIMEOUT_MS = 1000;
const CONNECT_TIMEOUT_MS = 3000;

// Reconnect forever with capped backoff: a hub outlives a Redis restart.
function retryStrategy(times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 6), 2000);
}

// A primary demoted by a failover answers writes with READONLY until the client
// reconnects; reconnecting (without resending) asks Sentinel for the new primary.
function reconnectOnReadonly(error: Error): 1 | false {
  return error.message.startsWith('READONLY') ? 1 : false;
}

// No offline queue, no retries, no resend: a command either runs now or fails now,
// so a caller is never told "failed" about a write that later happens anyway.
const FAIL_FAST: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false };
// Client-side deadline for XREAD BLOCK (BLOCK + grace) against half-open sockets.
const BLOCKING: RedisOptions = { blockingTimeout: 1, blockingTimeoutGrace: 2000 };

/**
 * Cluster redirections during a reshard or failover: MOVED and ASK are followed at
 * once, TRYAGAIN (a multi-key script meeting a half-migrated slot) and CLUSTERDOWN are
 * retried after a short delay, all within `maxRedirections` tries and the command
 * timeout. A closed node connection is NOT retried (retryDelayOnFailover 0): the
 * command may have run before the socket closed, and a publish must not run twice.
 */
export const CLUSTER_RETRIES = {
  maxRedirections: 16,
  retryDelayOnTryAgain: 50,
  retryDelayOnClusterDown: 100,
  retryDelayOnMoved: 0,
  retryDelayOnFailover: 0,
} as const satisfies ClusterOptions;

/** How long an ended Sentinel client waits before it connects again (see SentinelClient). */
const RECONNECT_AFTER_END_MS = 100;

/**
 * A Sentinel client that never ends unless its owner closes it. ioredis ends one for
 * good when a connect attempt is aborted under it: the failover detector of the previous
 * connection hears +switch-master while the client is reconnecting, disconnects the
 * connector, the attempt rejects and the status goes to 'end' with no retry. Seen after
 * a kill -9 of the primary: every publish answered "unreachable" until the test gave up
 * 30 s later. Such a client connects again.
 */
class SentinelClient extends Redis {
  private closedByOwner = false;

  constructor(options: RedisOptions) {
    super(options as RedisOptions & { replyMapping?: "legacy" });
    this.on('end', () => {
      if (this.closedByOwner) return;
      const timer = setTimeout(() => {
        if (!this.closedByOwner && this.status === 'end') this.connect().catch(() => {});
      }, RECONNECT_AFTER_END_MS);
      timer.unref();
    });
  }

  override disconnect(reconnect = false): void {
    if (!reconnect) this.closedByOwner = true;
    super.disconnect(reconnect);
  }
}

/** Opens one client of `target`, for `role` (its connection name), not yet connected. */
export function createClient(target: RedisTarget, role: string, options: RedisOptions): RedisClient {
  const common: RedisOptions = { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, connectionName: `herald-${role}`, ...options };
  if (target.kind === 'cluster') {
    const { enableOfflineQueue, ...redisOptions } = common;
    return new Cluster(target.nodes.map((node) => ({ ...node })), {
      ...CLUSTER_RETRIES,
      lazyConnect: true,
      enableOfflineQueue: enableOfflineQueue ?? true,
      clusterRetryStrategy: retryStrategy,
      // A node that drops is reconnected too (the default leaves that to MOVED replies).
      clusterNodeRetryStrategy: retryStrategy,
      slotsRefreshTimeout: 2000,
      redisOptions: { ...redisOptions, ...target.auth, ...(target.tls ? { tls: {} } : {}) },
    });
  }
  if (target.kind === 'sentinel') {
    return new SentinelClient({
      ...common,
      ...target.auth,
      ...(target.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
      sentinels: target.nodes.map((node) => ({ ...node })),
      name: target.masterName,
      db: target.db,
      role: 'master',
      retryStrategy,
      sentinelRetryStrategy: retryStrategy,
      // Subscribes to +switch-master on the sentinels: a failover is followed at once,
      // not when the old primary's socket finally drops.
      failoverDetector: true,
      reconnectOnError: reconnectOnReadonly,
    });
  }
  return new Redis(target.url, { ...common, retryStrategy });
}

export interface RedisConnections {
  readonly commands: RedisClient;
  readonly reader: RedisClient;
  /** Another blocking connection (one per XREAD BLOCK loop), connected and ready. */
  openBlocking(role: string): Promise<RedisClient>;
}

/** Connects commands and one reader and waits until both are ready; rejects with store_unavailable otherwise. */
export async function openRedisConnections(url: string, description: string, logger?: Logger): Promise<RedisConnections> {
  const target = parseRedisStore(url);
  const open = async (role: string, options: RedisOptions): Promise<RedisClient> => {
    const client = createClient(target, role, options);
    // ioredis emits 'error' on every failed reconnect; unhandled it would crash the process.
    client.on('error', (error: Error) => logger?.debug({ err: error, connection: role }, 'redis connection error'));
    client.on('node error', (error: Error, node: string) => logger?.debug({ err: error, connection: role, node }, 'redis cluster node error'));
    try {
      await connectWithin(client, CONNECT_TIMEOUT_MS);
    } catch (error) {
      client.disconnect();
      throw new HeraldError('store_unavailable', `Redis at ${description} is unreachable: ${causeOf(error)}`);
    }
    return client;
  };
  const [commands, reader] = await Promise.allSettled([
    open('commands', { ...FAIL_FAST, commandTimeout: COMMAND_TIMEOUT_MS }),
    open('reader', { ...FAIL_FAST, ...BLOCKING }),
  ]);
  if (commands.status === 'rejected' || reader.status === 'rejected') {
    for (const opened of [commands, reader]) if (opened.status === 'fulfilled') opened.value.disconnect();
    throw commands.status === 'rejected' ? commands.reason : (reader as PromiseRejectedResult).reason;
  }
  return {
    commands: commands.value,
    reader: reader.value,
    openBlocking: (role) => open(role, { ...FAIL_FAST, ...BLOCKING }),
  };
}

// Sentinel and Cluster clients retry their seeds forever (so a running hub outlives an
// outage); the first connection of a starting hub must give up instead.
async function connectWithin(client: RedisClient, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no connection within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([client.connect(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Graceful QUIT when connected, then drop the socket and stop reconnecting. */
export async function closeConnection(connection: RedisClient): Promise<void> {
  if (connection.status === 'ready') {
    try {
      await connection.quit();
    } catch {
      // the server went away while quitting
    }
  }
  // Always: QUIT alone leaves a Sentinel client's failover-detector connections open.
  connection.disconnect();
}

/** The message of whatever a Redis call threw, for logs and error replies. */
export function causeOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// Replies and client errors that mean "the cluster is moving a slot or electing a
// primary": retried within CLUSTER_RETRIES first, so seeing one here means the move
// outlasted that bound.
const MOVING = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b|Too many Cluster redirections/;
const UNREACHABLE = /Connection is closed|Stream isn't writeable|isn't ready and enableOfflineQueue|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|Cluster is ended|All sentinels are unreachable|Reached the max retries per request|Command aborted due to connection close/;

/**
 * The store_unavailable error for a failed Redis call, saying what really happened
 * (the raw cause goes to the log at the call site): "unreachable" only when no
 * connection was there, a distinct message for a cluster moving slots, a failover,
 * a full Redis, or a refusal.
 */
export function storeError(error: unknown, outcome: string): HeraldError {
  const cause = causeOf(error);
  let what: string;
  if (MOVING.test(cause)) what = 'The Redis cluster is moving this slot (reshard or failover) for longer than the retry bound';
  else if (cause.startsWith('READONLY')) what = 'Redis is failing over (the server reached is a replica now)';
  else if (cause === 'Command timed out') what = `Redis did not answer within ${COMMAND_TIMEOUT_MS} ms`;
  else if (cause.startsWith('OOM')) what = 'Redis is out of memory';
  else if (UNREACHABLE.test(cause)) what = 'Redis is unreachable';
  else what = `Redis refused the command (${cause.split(' ')[0]?.slice(0, 40) ?? 'error'})`;
  return new HeraldError('store_unavailable', `${what}; ${outcome}`);
}

/** The clients of every primary: the client itself unless it is a Cluster. */
export function primaries(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}

/** SCRIPT LOAD on every primary, so the first EVALSHA on each needs no EVAL fallback. */
export async function loadScripts(client: RedisClient, sources: readonly string[]): Promise<void> {
  await Promise.all(primaries(client).flatMap((node) => sources.map((source) => node.script('LOAD', source))));
}

/**
 * True when a command on each key's slot succeeds within `timeoutMs`: the slot has
 * an owner that answers (EXISTS is routed to it, and follows redirections on a
 * Cluster). One key per hash tag the caller writes.
 */
export async function probeSlots(client: RedisClient, keys: readonly string[], timeoutMs: number): Promise<boolean> {
  if (client.status !== 'ready') return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const probe = Promise.all(keys.map((key) => client.exists(key))).then(() => true, () => false);
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `use` on a short-lived client of the store (one-off reads and writes at start), then drops it. */
export async function withRedisClient<T>(store: string, use: (client: RedisClient) => Promise<T>): Promise<T> {
  const target = parseRedisStore(store);
  const client = createClient(target, 'setup', { maxRetriesPerRequest: 2 });
  client.on('error', () => {});
  try {
    await connectWithin(client, CONNECT_TIMEOUT_MS);
    return await use(client);
  } catch (error) {
    if (error instanceof HeraldError) throw error;
    throw new HeraldError('store_unavailable', `Redis at ${target.description} is unreachable: ${causeOf(error)}`);
  } finally {
    client.disconnect();
  }
}
