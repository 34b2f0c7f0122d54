// Test support for the Redis broker's test files (not used by the hub): a connection
// to the test Redis, a unique key prefix per run, fresh stores that clean up after
// themselves, and the CI rule (no Redis: fail under CI, skip with a reason locally).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after } from 'node:test';
import { Redis } from 'ioredis';
import { KEEP_ALL } from '../contract/kit.js';
import { bucketOf } from './buckets.js';
import { createRedisBroker, type RedisBroker, type RedisBrokerOptions } from './redis-broker.js';

export const testRedisUrl = process.env.HERALD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const runPrefix = `herald-test:${randomUUID()}:`;
let storeCount = 0;

/** A plain client for looking at keys behind the broker's back. */
export const admin = new Redis(testRedisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
admin.on('error', () => {});

/** Connects `admin`; false (or a throw under CI) when there is no Redis. Registers the final sweep. */
export async function connectTestRedis(): Promise<boolean> {
  const reachable = await admin.connect().then(
    () => true,
    () => false,
  );
  if (!reachable && process.env.CI) throw new Error(`Redis is required under CI but ${testRedisUrl} is unreachable`);
  if (reachable) {
    after(async () => {
      // Every case cleans up after itself; this catches one that did not.
      const leftovers = await keysOf(runPrefix);
      await deleteKeys(runPrefix);
      admin.disconnect();
      assert.deepEqual(leftovers, [], 'keys left behind by the tests');
    });
  }
  return reachable;
}

export const unreachableReason = `Redis is not reachable at ${testRedisUrl}; start it with: redis-server --daemonize yes --port 6379 --save ""`;

/** Key names under `prefix` (prefix stripped), sorted. */
export async function keysOf(prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    found.push(...keys.map((k) => k.slice(prefix.length)));
  } while (cursor !== '0');
  return found.sort();
}

async function deleteKeys(prefix: string): Promise<void> {
  const keys = await keysOf(prefix);
  for (let i = 0; i < keys.length; i += 500) await admin.del(...keys.slice(i, i + 500).map((k) => prefix + k));
}

export interface TestStore {
  readonly prefix: string;
  /** Another "process" on this store. */
  open(extra?: Partial<RedisBrokerOptions>): Promise<RedisBroker>;
  /** Closes every broker opened here and deletes the store's keys. */
  cleanup(): Promise<void>;
}

export function newStore(): TestStore {
  const prefix = `${runPrefix}${++storeCount}:`;
  const opened: RedisBroker[] = [];
  return {
    prefix,
    async open(extra = {}) {
      const broker = await createRedisBroker({ url: testRedisUrl, prefix, retention: KEEP_ALL, ...extra });
      opened.push(broker);
      return broker;
    },
    async cleanup() {
      await Promise.all(opened.map((b) => b.close()));
      await deleteKeys(prefix);
    },
  };
}

export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A topic of each of `buckets` buckets (the first found), so a case can aim at buckets. */
export function topicsByBucket(buckets: number, prefix = 'urn:b:'): string[] {
  const found: string[] = [];
  for (let i = 0; found.filter(Boolean).length < buckets; i++) {
    const topic = `${prefix}${i}`;
    found[bucketOf(topic, buckets)] ??= topic;
  }
  return found;
}
