// Turns the --store setting into a Broker. STORES is the one table of implementations: a new store
// is one folder beside local/ and redis/ plus one row here. Each row also says whether the store is
// shared across processes, which config.ts asks before it allows --workers > 1.
import type { Logger } from 'pino';
import { HeraldError } from '../errors.js';
import type { Broker, RetentionOptions } from './types.js';

export interface CreateBrokerOptions {
  readonly retention: RetentionOptions;
  readonly logger?: Logger;
  /** Key prefix of every Redis key (default `herald:`); ignored by the other stores. */
  readonly redisPrefix?: string;
  /** Buckets of the Redis log (--redis-log-buckets); default 1. */
  readonly redisLogBuckets?: number;
  /** With buckets, read only those the subscribers need (--redis-interest). */
  readonly redisInterest?: boolean;
  /** Replicas that must confirm each Redis write before publish resolves (WAIT); default 0. */
  readonly redisReplicasAck?: number;
}

export interface StoreKind {
  /** How the --store value is written, for help and error messages. */
  readonly syntax: string;
  /** Several Herald processes can use one store of this kind (history, fan-out and presence). */
  readonly shared: boolean;
  readonly matches: (store: string) => boolean;
  /** Implementations are imported on open: a hub without Redis never loads ioredis. */
  readonly open: (store: string, opts: CreateBrokerOptions) => Promise<Broker>;
}

export const STORES: readonly StoreKind[] = [
  {
    syntax: 'memory',
    shared: false,
    matches: (store) => store === 'memory',
    open: async (_store, opts) => new (await import('./local/memory.js')).MemoryBroker({ retention: opts.retention, logger: opts.logger }),
  },
  {
    syntax: 'sqlite:<path>',
    shared: false,
    matches: (store) => store.startsWith('sqlite:') && store.length > 'sqlite:'.length,
    // A relative path is relative to the working directory, as better-sqlite3 opens it.
    open: async (store, opts) =>
      (await import('./local/sqlite.js')).SqliteBroker.open({ path: store.slice('sqlite:'.length), retention: opts.retention, logger: opts.logger }),
  },
  ...[
    { syntax: 'redis://host:port/db', matches: (store: string) => /^rediss?:\/\/./.test(store) },
    // The primary that Sentinel names, followed across failovers.
    { syntax: 'redis-sentinel://host:port,host:port/mastername', matches: (store: string) => /^rediss?-sentinel:\/\/./.test(store) },
    { syntax: 'redis-cluster://host:port,host:port', matches: (store: string) => /^rediss?-cluster:\/\/./.test(store) },
  ].map((form): StoreKind => ({
    ...form,
    shared: true,
    open: async (store, opts) =>
      (await import('./redis/redis-broker.js')).createRedisBroker({
        url: store,
        prefix: opts.redisPrefix ?? 'herald:',
        retention: opts.retention,
        logger: opts.logger,
        replicasAck: opts.redisReplicasAck ?? 0,
        logBuckets: opts.redisLogBuckets ?? 1,
        interest: opts.redisInterest ?? false,
      }),
  })),
];

const listed = (kinds: readonly StoreKind[]): string => {
  const syntaxes = kinds.map((kind) => kind.syntax);
  return syntaxes.length < 2 ? syntaxes.join('') : `${syntaxes.slice(0, -1).join(', ')} or ${syntaxes.at(-1)}`;
};
/** "memory, sqlite:<path>, redis://host:port/db, ... or redis-cluster://host:port,host:port" */
export const STORE_SYNTAX = listed(STORES);
/** The stores --workers > 1 can use. */
export const SHARED_STORE_SYNTAX = listed(STORES.filter((kind) => kind.shared));

export function storeKind(store: string): StoreKind | undefined {
  return STORES.find((kind) => kind.matches(store));
}

export async function createBroker(store: string, opts: CreateBrokerOptions): Promise<Broker> {
  const kind = storeKind(store);
  if (kind === undefined) throw new HeraldError('invalid_config', `--store must be one of ${STORE_SYNTAX}, got "${store}"`);
  return kind.open(store, opts);
}
