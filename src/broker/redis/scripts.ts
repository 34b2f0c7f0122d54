// The EVALSHA runner and the presence scripts (the publish script has its own module).
// Every multi-key write is one script so it is atomic; each script only touches keys
// of one hash tag ({log}, {presence} or one node's), which keeps it valid on Redis Cluster.
import { createHash } from 'node:crypto';
import type { RedisClient } from './connection.js';

export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** EVALSHA; after a Redis restart the script cache is empty, so NOSCRIPT falls back to EVAL once. */
  async run(redis: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

// Redis' own clock, in ms. Presence runs on it so hub hosts with skewed clocks agree
// on who is alive; publish compares it with its caller's deadline.
export const nowMs = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Presence writes of one node, in its own slot. KEYS: the node's alive key, its records
 * hash. ARGV: '1' to replace the hash (resync), then field/value pairs. Sets the alive
 * key to now. Returns 1 when the node was alive before, 0 when it was new or had been swept.
 */
export const registerScript = new LuaScript(`${nowMs}
local present = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], now)
if ARGV[1] == '1' then redis.call('DEL', KEYS[2]) end
if #ARGV > 1 then redis.call('HSET', KEYS[2], unpack(ARGV, 2)) end
return present
`);

/** The directory's heartbeat. KEYS: nodes zset. ARGV: node id. */
export const beatScript = new LuaScript(`${nowMs}
redis.call('ZADD', KEYS[1], now, ARGV[1])
return now
`);

/** KEYS: nodes zset. ARGV: ttl ms, max count. Returns ids of nodes whose heartbeat is older than the ttl. */
export const expiredNodesScript = new LuaScript(`${nowMs}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[1])), 'LIMIT', 0, tonumber(ARGV[2]))
`);

/** KEYS: nodes zset. ARGV: ttl ms. Returns ids of nodes that beat within the ttl. */
export const liveNodesScript = new LuaScript(`${nowMs}
return redis.call('ZRANGEBYSCORE', KEYS[1], now - tonumber(ARGV[1]), '+inf')
`);

/**
 * Claims a dead node in its own slot: only the caller that deletes its alive key gets
 * its records, so exactly one process reports them. KEYS: the node's alive key, its
 * records hash. ARGV: ttl ms, or 'force' (our own leftovers at start). Returns the
 * hash as a flat list, or nil when the node is alive or was claimed already.
 */
export const claimNodeScript = new LuaScript(`${nowMs}
if ARGV[1] ~= 'force' then
  local alive = redis.call('GET', KEYS[1])
  if not alive or tonumber(alive) >= now - tonumber(ARGV[1]) then return false end
end
redis.call('DEL', KEYS[1])
local records = redis.call('HGETALL', KEYS[2])
redis.call('DEL', KEYS[2])
return records
`);

/** Drops a node from the directory unless it beat within the ttl meanwhile. KEYS: nodes zset. ARGV: node id, ttl ms. */
export const forgetNodeScript = new LuaScript(`${nowMs}
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) < now - tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`);

/** KEYS: this node's hash. ARGV: record ids. Returns the ids it removed (the others were not there). */
export const removeRecordsScript = new LuaScript(`
local removed = {}
for i = 1, #ARGV do
  if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then removed[#removed + 1] = ARGV[i] end
end
return removed
`);

export const presenceScripts: readonly LuaScript[] = [
  registerScript,
  beatScript,
  forgetNodeScript,
  removeRecordsScript,
  expiredNodesScript,
  liveNodesScript,
  claimNodeScript,
];
