// Opens the Redis broker's two ioredis connections: one for commands (must fail fast
// so a publish never hangs while Redis is away) and one for the blocking XREAD loop.
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { HeraldError } from '../../errors.js';

/** A publish or presence call gives up after this long on a connected but silent server. */
export const COMMAND_TIMEOUT_MS = 1000;
const CONNECT_TIMEOUT_MS = 3000;

/** The URL without credentials, for logs and /readyz. Rejects anything but redis:// and rediss://. */
export function describeRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HeraldError('invalid_config', `Invalid Redis URL; expected redis://[user:pass@]host:port/db`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new HeraldError('invalid_config', `Redis URL must start with redis:// or rediss://, got ${parsed.protocol}//`);
  }
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

// Reconnect forever with capped backoff: a hub outlives a Redis restart.
function retryStrategy(times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 6), 2000);
}

export interface RedisConnections {
  readonly commands: Redis;
  readonly reader: Redis;
}

/** Connects both and waits until they are ready; rejects with store_unavailable otherwise. */
export async function openRedisConnections(url: string, description: string, logger?: Logger): Promise<RedisConnections> {
  const base: RedisOptions = { retryStrategy, lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS };
  const commands = new Redis(url, {
    ...base,
    connectionName: 'herald-commands',
    // No offline queue, no retries, no resend: a command either runs now or fails now,
    // so a caller is never told "failed" about a write that later happens anyway.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: COMMAND_TIMEOUT_MS,
  });
  const reader = new Redis(url, {
    ...base,
    connectionName: 'herald-reader',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // Client-side deadline for XREAD BLOCK (BLOCK + grace) against half-open sockets.
    blockingTimeout: 1,
    blockingTimeoutGrace: 2000,
  });
  for (const [name, connection] of [['commands', commands], ['reader', reader]] as const) {
    // ioredis emits 'error' on every failed reconnect; unhandled it would crash the process.
    connection.on('error', (error: Error) => logger?.debug({ err: error, connection: name }, 'redis connection error'));
  }
  try {
    await Promise.all([commands.connect(), reader.connect()]);
  } catch (error) {
    commands.disconnect();
    reader.disconnect();
    const reason = error instanceof Error ? error.message : String(error);
    throw new HeraldError('store_unavailable', `Redis at ${description} is unreachable: ${reason}`);
  }
  return { commands, reader };
}

/** Graceful QUIT when connected, otherwise just drop the socket and stop reconnecting. */
export async function closeConnection(connection: Redis): Promise<void> {
  if (connection.status === 'ready') {
    try {
      await connection.quit();
      return;
    } catch {
      // fall through: the server went away while quitting
    }
  }
  connection.disconnect();
}
