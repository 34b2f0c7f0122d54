// The Lua scripts of the Redis broker and the EVALSHA runner. Every multi-key write is
// one script so it is atomic; each script only touches keys of one hash tag ({log} or
// {presence}), which keeps them valid on Redis Cluster. Needs Redis >= 7.0 (`<ms>-*` ids).
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** EVALSHA; after a Redis restart the script cache is empty, so NOSCRIPT falls back to EVAL once. */
  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

// Redis' own clock, in ms. Presence runs on it so hub hosts with skewed clocks agree
// on who is alive; publish compares it with the caller's deadline.
const nowMs = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * KEYS: stream, id key of this update, list key of its canonical topic.
 * ARGV: now ms, maxTotal, age cutoff ms ('0': none), maxPerTopic, id key TTL s (0: none),
 * id key prefix, topic key prefix, deadline (Redis clock, ms), then the entry's field/value pairs.
 * A script that only gets to run after its deadline (Redis stalled, the caller already
 * gave up and reported failure) writes nothing and returns 0: "failed" stays true.
 * Retention runs before the XADD and removes the secondary keys of every entry it
 * drops, so id keys and topic lists never outlive their entries. At most BATCH
 * entries go per publish to bound the script's run time; reads apply the age cutoff
 * themselves, so a backlog left by the bound is never visible.
 * Returns the new entry id, or nil (writing nothing) when the update id is already kept.
 */
export const publishScript = new LuaScript(`${nowMs}
if now > tonumber(ARGV[8]) then return 0 end
local stream, idKey, topicKey = KEYS[1], KEYS[2], KEYS[3]
local idMs, maxTotal, cutoffMs = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local maxPerTopic, idTtl = tonumber(ARGV[4]), tonumber(ARGV[5])
local idPrefix, topicPrefix = ARGV[6], ARGV[7]
local BATCH = 1000

-- ids are unique among kept updates; one that aged out (not yet trimmed) may come back
local existing = redis.call('GET', idKey)
if existing and (cutoffMs == '0' or tonumber(string.match(existing, '^%d+')) >= tonumber(cutoffMs)) then
  if #redis.call('XRANGE', stream, existing, existing) > 0 then return false end
end

local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return nil
end

local function forget(entry)
  local uid = field(entry[2], 'id')
  -- a later update may have reused the id; its key then points elsewhere and stays
  if uid and redis.call('GET', idPrefix .. uid) == entry[1] then
    redis.call('DEL', idPrefix .. uid)
  end
  if maxPerTopic > 0 then
    local ok, topics = pcall(cjson.decode, field(entry[2], 'topics') or '')
    if ok and type(topics) == 'table' and topics[1] then
      local list = topicPrefix .. topics[1]
      -- entries leave in log order, so a dropped entry is the head of its topic list
      if redis.call('LINDEX', list, 0) == entry[1] then redis.call('LPOP', list) end
    end
  end
end

local function drop(entries)
  if #entries == 0 then return end
  local ids = {}
  for i, entry in ipairs(entries) do
    forget(entry)
    ids[i] = entry[1]
  end
  redis.call('XDEL', stream, unpack(ids))
end

if cutoffMs ~= '0' then
  drop(redis.call('XRANGE', stream, '-', '(' .. cutoffMs .. '-0', 'COUNT', BATCH))
end
if maxTotal > 0 then
  local excess = redis.call('XLEN', stream) - maxTotal + 1
  if excess > 0 then
    drop(redis.call('XRANGE', stream, '-', '+', 'COUNT', math.min(excess, BATCH)))
  end
end

-- the entry id carries the publisher's clock; if it is behind the log, Redis picks the id
local entryId = redis.pcall('XADD', stream, idMs .. '-*', unpack(ARGV, 9))
if type(entryId) == 'table' and entryId.err then
  entryId = redis.call('XADD', stream, '*', unpack(ARGV, 9))
end

if idTtl > 0 then
  redis.call('SET', idKey, entryId, 'EX', idTtl)
else
  redis.call('SET', idKey, entryId)
end

if maxPerTopic > 0 then
  redis.call('RPUSH', topicKey, entryId)
  local over = redis.call('LLEN', topicKey) - maxPerTopic
  for _ = 1, over do
    local old = redis.call('LPOP', topicKey)
    drop(redis.call('XRANGE', stream, old, old))
  end
end
return entryId
`);

/**
 * Heartbeat and presence writes in one. KEYS: nodes zset, this node's hash.
 * ARGV: node id, '1' to replace the hash (resync), then field/value pairs.
 * Returns 1 when the node was alive before, 0 when it was new or had been swept.
 */
export const registerScript = new LuaScript(`${nowMs}
local present = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now, ARGV[1])
if ARGV[2] == '1' then redis.call('DEL', KEYS[2]) end
if #ARGV > 2 then redis.call('HSET', KEYS[2], unpack(ARGV, 3)) end
if present then return 1 end
return 0
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
 * Claims a dead node: only the caller whose ZREM removed it gets its records, so
 * exactly one process reports them. KEYS: nodes zset, node hash. ARGV: node id, ttl ms
 * or 'force' (our own leftovers at start). Returns the hash as a flat list, or nil.
 */
export const claimNodeScript = new LuaScript(`${nowMs}
local force = ARGV[2] == 'force'
if not force then
  local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if not score or tonumber(score) >= now - tonumber(ARGV[2]) then return false end
end
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 and not force then return false end
local records = redis.call('HGETALL', KEYS[2])
redis.call('DEL', KEYS[2])
return records
`);

export const allScripts: readonly LuaScript[] = [
  publishScript,
  registerScript,
  expiredNodesScript,
  liveNodesScript,
  claimNodeScript,
];
