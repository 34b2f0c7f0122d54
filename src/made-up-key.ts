// When no JWT key is configured, subscriber tokens (the chat's session cookies among
// them) still need one. With the SQLite store it is kept beside the database, so a
// restart does not sign everybody out. With Redis it is kept in Redis, so every worker
// and every process sharing the store signs and verifies with the same key (each
// making up its own gave random 401s). With memory it lives as long as the process.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface MadeUpKey {
  readonly key: string;
  /** Where it is kept, or undefined when it dies with the process. */
  readonly file: string | undefined;
  /** The Redis key holding it, when the store is Redis. */
  readonly redisKey?: string;
}

/** The Redis key name under the store's prefix (docs/redis.md lists it). */
export function subscriberKeyName(prefix: string): string {
  return `${prefix}subscriber-key`;
}

/** The two commands the shared key needs, from any Redis client (standalone, Sentinel or Cluster). */
export interface KeyValueClient {
  set(key: string, value: string, mode: 'NX'): Promise<unknown>;
  get(key: string): Promise<string | null>;
}

/**
 * The first process to ask stores a new key (SET NX); every other one reads that key.
 * It never expires: deleting it signs every chat session out at the next restart.
 */
export async function sharedSubscriberKey(redis: KeyValueClient, prefix: string): Promise<MadeUpKey> {
  const name = subscriberKeyName(prefix);
  await redis.set(name, randomBytes(32).toString('base64url'), 'NX');
  const key = await redis.get(name);
  if (key === null || key.length < 32) throw new Error(`Redis key ${name} holds no usable subscriber key`);
  return { key, file: undefined, redisKey: name };
}

export function madeUpSubscriberKey(store: string): MadeUpKey {
  if (!store.startsWith('sqlite:')) return { key: randomBytes(32).toString('base64url'), file: undefined };
  const file = resolve(dirname(store.slice('sqlite:'.length)), 'herald-subscriber.key');
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return { key: existing, file };
  } catch {
    // Not there yet: made below.
  }
  const key = randomBytes(32).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, file };
}
