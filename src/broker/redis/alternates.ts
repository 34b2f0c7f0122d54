// Interest filtering's record of alternate topics (docs/redis.md, "Alternates across
// buckets"). An update goes to the bucket of its canonical topic; for each alternate
// topic T of another bucket, the publisher first records, in T's own bucket, that its
// bucket names T: a hash `alt:T` (bucket -> marker time), and on the first time a
// bucket is recorded, a marker entry in T's bucket's stream. A process following T
// reads the hash after it joined T's bucket (so a marker it does not read is in the
// hash), and one that reads a marker joins the named bucket from the marker's time.
// The publisher then stamps its update past that time, so every update naming T from
// that bucket sorts after the marker: a follower reading the marker has emitted nothing
// that sorts after it yet, and loses none of them.
import type { RedisClient } from './connection.js';
import type { RedisKeys } from './keys.js';
import { LuaScript } from './scripts.js';

/** Past this many buckets recorded for a topic, its followers read every bucket ('*'). */
export const MAX_ALTERNATE_BUCKETS = 8;
/**
 * Refreshed by every publish naming the topic from another bucket: it can only expire
 * when no such publish came for this long, and then the next one writes a new marker.
 */
const ALTERNATES_TTL_MS = 24 * 3600 * 1000;

/** The field of the marker entry that names the topic: such an entry is no update (it has no `id`). */
const MARKER_FIELD = 'alt';

/**
 * KEYS: the topic's `alt:` hash, its bucket's stream, its bucket's meta hash.
 * ARGV: [1] the naming bucket, [2] a proposed entry time, [3] the cap, [4] the topic,
 * [5] the ttl ms. Returns the marker time recorded for that bucket (or for '*').
 */
export const alternateScript = new LuaScript(`
local hash, stream, meta = KEYS[1], KEYS[2], KEYS[3]
local recorded = redis.call('HGET', hash, '*') or redis.call('HGET', hash, ARGV[1])
if recorded then
  redis.call('PEXPIRE', hash, ARGV[5])
  return recorded
end
local bucket = ARGV[1]
if redis.call('HLEN', hash) >= tonumber(ARGV[3]) then bucket = '*' end
local ts = ARGV[2]
local clock = redis.call('HGET', meta, 'clock')
if clock and tonumber(clock) > tonumber(ts) then ts = clock end
local entryId = redis.pcall('XADD', stream, ts .. '-*', '${MARKER_FIELD}', ARGV[4], 'bucket', bucket)
if type(entryId) == 'table' and entryId.err then
  entryId = redis.call('XADD', stream, '*', '${MARKER_FIELD}', ARGV[4], 'bucket', bucket)
end
local ms = string.match(entryId, '^%d+')
-- the reader's tick reads past meta.last only, and no later entry may sort below the marker
redis.call('HSET', meta, 'clock', ms, 'last', entryId)
redis.call('HSET', hash, bucket, ms)
redis.call('PEXPIRE', hash, ARGV[5])
return ms
`);

/**
 * Records that `bucket` names each of `topics` (topics of other buckets) and returns the
 * entry time the update must be stamped past (0: none).
 */
export async function recordAlternates(redis: RedisClient, keys: readonly RedisKeys[], bucket: number, topics: ReadonlyArray<readonly [topic: string, bucket: number]>, stamp: number): Promise<number> {
  const times = await Promise.all(topics.map(async ([topic, b]) => {
    const k = keys[b]!;
    return Number(await alternateScript.run(redis, [k.altPrefix + topic, k.stream, k.meta], [bucket, stamp, MAX_ALTERNATE_BUCKETS, topic, ALTERNATES_TTL_MS]));
  }));
  return Math.max(0, ...times);
}

/** The buckets recorded as naming each topic, in order; 'all' for a topic past the cap. */
export async function readAlternates(redis: RedisClient, keys: readonly RedisKeys[], topics: ReadonlyArray<readonly [topic: string, bucket: number]>): Promise<Array<number[] | 'all'>> {
  const hashes = await Promise.all(topics.map(([topic, b]) => redis.hgetall(keys[b]!.altPrefix + topic)));
  return hashes.map((hash) => {
    if ('*' in hash) return 'all';
    return Object.keys(hash).map(Number).filter((b) => Number.isInteger(b) && b >= 0 && b < keys.length);
  });
}

/** A marker entry's topic, naming bucket ('all' past the cap) and time; null for any other entry. */
export function parseMarker(fields: readonly string[], buckets: number): { topic: string; bucket: number | 'all' } | null {
  let topic: string | undefined;
  let bucket: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === MARKER_FIELD) topic = fields[i + 1];
    else if (fields[i] === 'bucket') bucket = fields[i + 1];
    else if (fields[i] === 'id') return null;
  }
  if (topic === undefined || bucket === undefined) return null;
  if (bucket === '*') return { topic, bucket: 'all' };
  const b = Number(bucket);
  return Number.isInteger(b) && b >= 0 && b < buckets ? { topic, bucket: b } : null;
}
