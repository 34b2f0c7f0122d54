// Turns the --store setting into a Broker: `memory`, `sqlite:<path>` or a Redis URL.
// The only place that knows every implementation; cli/herald call it once at start.
import type { Logger } from 'pino';
import { HeraldError } from '../errors.js';
import { MemoryBroker } from './memory.js';
import { SqliteBroker } from './sqlite.js';
import type { Broker, RetentionOptions } from './types.js';

export interface CreateBrokerOptions {
  readonly retention: RetentionOptions;
  readonly logger?: Logger;
  /** Key prefix of every Redis key (default `herald:`); ignored by the other stores. */
  readonly redisPrefix?: string;
}

export async function createBroker(store: string, opts: CreateBrokerOptions): Promise<Broker> {
  if (store === 'memory') return new MemoryBroker({ retention: opts.retention, logger: opts.logger });
  if (store.startsWith('sqlite:')) {
    const path = store.slice('sqlite:'.length);
    if (path === '') throw invalidStore(store);
    // A relative path is relative to the working directory, as better-sqlite3 opens it.
    return SqliteBroker.open({ path, retention: opts.retention, logger: opts.logger });
  }
  if (store.startsWith('redis://') || store.startsWith('rediss://')) {
    // Imported on demand: a hub without Redis never loads ioredis.
    const { createRedisBroker } = await import('./redis.js');
    return createRedisBroker({ url: store, prefix: opts.redisPrefix ?? 'herald:', retention: opts.retention, logger: opts.logger });
  }
  throw invalidStore(store);
}

function invalidStore(store: string): HeraldError {
  return new HeraldError('invalid_config', `--store must be memory, sqlite:<path> or redis://host:port/db, got "${store}"`);
}
