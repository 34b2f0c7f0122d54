// The Lua script behind RedisBroker.publish: duplicate check, retention and XADD in
// one atomic step. Retention is two-phased, because the stream is also every
// process's live feed: an update leaves the KEPT log (its id key goes, history stops
// showing it) at once, but its stream entry is deleted only after a grace period, so
// a reader that lags behind a burst still delivers it live.
import { LuaScript, nowMs } from './redis-scripts.js';

/**
 * KEYS: stream, id key of this update, list key of its canonical topic, meta hash, doomed list.
 * ARGV: [1] entry id ms, [2] maxTotal, [3] age cutoff ms (0: none), [4] maxPerTopic,
 * [5] id key prefix, [6] topic key prefix, [7] grace cutoff ms (entries published before
 * it may be deleted), [8] deadline (Redis clock, ms), [9..] the entry's field/value pairs.
 *
 * An update is kept exactly while its id key points at its entry; `meta.count` counts
 * those keys. Returns the new entry id; nil (writing nothing) when the update id is
 * already kept; 0 (writing nothing) when Redis only got to the script after its
 * deadline, i.e. after the caller had already reported failure.
 */
export const publishScript = new LuaScript(`${nowMs}
if now > tonumber(ARGV[8]) then return 0 end
local stream, idKey, topicKey, metaKey, doomedKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local maxTotal, cutoffMs, maxPerTopic = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local idPrefix, topicPrefix, graceCutoff = ARGV[5], ARGV[6], tonumber(ARGV[7])
local BATCH = 1000

local function msOf(entryId) return tonumber(string.match(entryId, '^%d+')) end
local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return nil
end

local count = tonumber(redis.call('HGET', metaKey, 'count') or '0')
local floor = redis.call('HGET', metaKey, 'floor') or '0-0'

-- the update of this entry stops being kept (unless its id was reused by a later one)
local function unkeep(entryId, fields)
  local uid = field(fields, 'id')
  if uid and redis.call('GET', idPrefix .. uid) == entryId then
    redis.call('DEL', idPrefix .. uid)
    count = count - 1
  end
end

local existing = redis.call('GET', idKey)
if existing then
  if msOf(existing) >= cutoffMs then return false end
  -- aged out, not trimmed yet: the id is free again
  redis.call('DEL', idKey)
  count = count - 1
end

-- head trimming, oldest first: what aged out, then the oldest while the log is full
-- pages start at one entry: a publish usually trims none or one
local examined, pageSize = 0, 1
while examined < BATCH do
  local page = redis.call('XRANGE', stream, '(' .. floor, '+', 'COUNT', pageSize)
  local full = #page == pageSize
  pageSize = math.min(pageSize * 4, 256)
  for _, entry in ipairs(page) do
    if msOf(entry[1]) >= cutoffMs and count < maxTotal then full = false; break end
    unkeep(entry[1], entry[2])
    if maxPerTopic > 0 then
      local ok, topics = pcall(cjson.decode, field(entry[2], 'topics') or '')
      if ok and type(topics) == 'table' and topics[1] then
        local list = topicPrefix .. topics[1]
        -- entries leave in log order, so one leaving from the head heads its topic list
        if redis.call('LINDEX', list, 0) == entry[1] then redis.call('LPOP', list) end
      end
    end
    floor = entry[1]
    examined = examined + 1
  end
  if not full then break end
end

-- deletion, once the grace period is over
if graceCutoff > 0 then
  if floor ~= '0-0' then
    local minId = graceCutoff .. '-0'
    if msOf(floor) < graceCutoff then
      local ms, seq = string.match(floor, '^(%d+)-(%d+)$')
      minId = ms .. '-' .. string.format('%d', tonumber(seq) + 1)
    end
    redis.call('XTRIM', stream, 'MINID', minId)
  end
  for _ = 1, BATCH do
    local doomed = redis.call('LINDEX', doomedKey, 0)
    if not doomed or msOf(doomed) >= graceCutoff then break end
    redis.call('LPOP', doomedKey)
    redis.call('XDEL', stream, doomed)
  end
end

-- the entry id carries the publisher's clock; if it is behind the log, Redis picks the id
local entryId = redis.pcall('XADD', stream, ARGV[1] .. '-*', unpack(ARGV, 9))
if type(entryId) == 'table' and entryId.err then
  entryId = redis.call('XADD', stream, '*', unpack(ARGV, 9))
end
redis.call('SET', idKey, entryId)
count = count + 1

-- per-topic trimming, from the middle of the log: the entry waits in the doomed list
if maxPerTopic > 0 then
  redis.call('RPUSH', topicKey, entryId)
  while redis.call('LLEN', topicKey) > maxPerTopic do
    local old = redis.call('LPOP', topicKey)
    local entry = redis.call('XRANGE', stream, old, old)[1]
    if entry then
      unkeep(old, entry[2])
      redis.call('RPUSH', doomedKey, old)
    end
  end
end

redis.call('HSET', metaKey, 'count', count, 'floor', floor)
return entryId
`);
