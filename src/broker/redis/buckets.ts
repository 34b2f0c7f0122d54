// The log's buckets (--redis-log-buckets): which bucket a topic's updates go to, the
// hash tag of each bucket, and the guard that a deployment keeps the number it was
// created with. Tags are chosen so that bucket i's slot lies in the i-th of `count`
// equal slot ranges: a Cluster whose masters own equal contiguous ranges (what
// `redis-cli --cluster create` and an even reshard give) gets an equal share of buckets
// (16 buckets on 3 masters: 5/5/6; the naive `{b0}..{b15}` gave 4/6/6).
import { HeraldError } from '../../errors.js';
import type { RedisClient } from './connection.js';

/** Redis Cluster's slot count. */
export const SLOTS = 16384;

/** CRC16/XMODEM, the hash Redis Cluster maps keys to slots with. */
function crc16(text: string): number {
  let crc = 0;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The Cluster slot of a key, hash tag included (`a{tag}b` hashes `tag`). */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return crc16(key.slice(open + 1, close)) % SLOTS;
  }
  return crc16(key) % SLOTS;
}

/**
 * The hash tag of each bucket. One bucket is today's layout (`{log}`), so a deployment
 * that never set the option keeps its keys.
 */
export function bucketTags(count: number): string[] {
  if (count === 1) return ['log'];
  const tags: string[] = [];
  for (let i = 0; i < count; i++) {
    const from = Math.floor((i * SLOTS) / count);
    const to = Math.floor(((i + 1) * SLOTS) / count);
    // About `count` tries per bucket: a slot range is 1/count of all slots.
    for (let k = 0; ; k++) {
      const tag = `log-${i}-${k}`;
      const slot = keySlot(`{${tag}}`);
      if (slot >= from && slot < to) {
        tags.push(tag);
        break;
      }
    }
  }
  return tags;
}

/** The bucket of a canonical topic: FNV-1a, so it does not correlate with the slot hash. */
export function bucketOf(topic: string, count: number): number {
  if (count === 1) return 0;
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(topic, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash % count;
}

/** The key that records a deployment's bucket count. */
export function layoutKey(prefix: string): string {
  return `${prefix}{layout}:log-buckets`;
}

/**
 * Records the bucket count on first start and refuses a different one later: the
 * buckets of a topic are a function of the count, so a changed count would make every
 * kept update unfindable. A deployment from before the option has `{log}` keys and no
 * record: it is one bucket.
 */
export async function checkLayout(redis: RedisClient, prefix: string, count: number, legacyKey: string): Promise<void> {
  const key = layoutKey(prefix);
  let stored = await redis.get(key);
  if (stored === null) {
    const legacy = (await redis.exists(legacyKey)) === 1;
    const initial = legacy ? 1 : count;
    await redis.set(key, String(initial), 'NX');
    stored = await redis.get(key);
  }
  if (stored !== String(count)) {
    throw new HeraldError(
      'invalid_config',
      `The Redis log under prefix "${prefix}" was created with --redis-log-buckets ${stored ?? '?'}, and this process was started with ${count}. ` +
        `Changing the number of buckets needs a migration (docs/redis.md, "Changing the number of buckets"): start with --redis-log-buckets ${stored ?? '?'}, or use a new --redis-prefix`,
    );
  }
}
