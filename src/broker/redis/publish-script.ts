// The Lua script behind RedisBroker.publish: duplicate check, retention and XADD in
// one atomic step. Retention is two-phased, because the stream is also every
// process's live feed: an update leaves the KEPT log (its id key goes, history stops
// showing it) at once, but its stream entry is deleted only after a grace period, so
// a reader that lags behind a burst still delivers it live.
//
// Presence events (the hub's subscription events) go into the same stream, so they
// keep their place in the one log order, but they are a class of their own: not
// counted in meta.count, never on a topic list, and kept only while among the newest
// maxPresence of the presence list; past that they wait out the grace period like a
// trimmed message, but at most `backlog` of them, whatever the rate.
import { LuaScript, nowMs } from './scripts.js';

/**
 * KEYS: stream, id key of this update, list key of its canonical topic, meta hash, doomed
 * list, presence list.
 * ARGV: [1] entry id ms, [2] maxTotal, [3] age cutoff ms (0: none), [4] maxPerTopic,
 * [5] id key prefix, [6] topic key prefix, [7] grace cutoff ms (entries published before
 * it may be deleted), [8] deadline (Redis clock, ms), [9] '1' for a presence event,
 * [10] maxPresence, [11] presence backlog, [12] index key prefix, [13] k = number of
 * distinct topics, [14..13+k] the update's distinct topics, [14+k..] the entry's
 * field/value pairs (a presence event's include `presence` = `1`).
 *
 * The per-topic index: a kept update has one entry, with its own entry id and field
 * `u` = its update id, in the index stream of each of its distinct topics; it leaves
 * them in the same call that drops its id key, and an emptied index is deleted.
 *
 * An update is kept exactly while its id key points at its entry; `meta.count` counts
 * the keys of messages. Returns the new entry id followed by (update id, claim) pairs of the
 * updates it stopped keeping that carry a `claim` field; nil (writing nothing) when the update id is
 * already kept; 0 (writing nothing) when Redis only got to the script after its
 * deadline, i.e. after the caller had already reported failure.
 */
export const publishScript = new LuaScript(`${nowMs}
if now > tonumber(ARGV[8]) then return 0 end
local stream, idKey, topicKey, metaKey, doomedKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local maxTotal, cutoffMs, maxPerTopic = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local idPrefix, topicPrefix, graceCutoff = ARGV[5], ARGV[6], tonumber(ARGV[7])
local presenceKey, isPresence = KEYS[6], ARGV[9] == '1'
local maxPresence, backlog = tonumber(ARGV[10]), tonumber(ARGV[11])
local indexPrefix, topicCount = ARGV[12], tonumber(ARGV[13])
local FIELDS = 14 + topicCount
local BATCH = 1000

local function msOf(entryId) return tonumber(string.match(entryId, '^%d+')) end
local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return nil
end

local count = tonumber(redis.call('HGET', metaKey, 'count') or '0')
-- claims of the updates this call stops keeping (sharded log: their global id claims are released)
local released = {}
local floor = redis.call('HGET', metaKey, 'floor') or '0-0'

local function isPresenceEntry(fields) return field(fields, 'presence') == '1' end

local function distinctTopics(fields)
  local ok, topics = pcall(cjson.decode, field(fields, 'topics') or '')
  if not ok or type(topics) ~= 'table' then return {} end
  local seen, list = {}, {}
  for _, t in ipairs(topics) do
    if type(t) == 'string' and not seen[t] then seen[t] = true; list[#list + 1] = t end
  end
  return list
end

local function unindex(entryId, fields)
  for _, t in ipairs(distinctTopics(fields)) do
    local index = indexPrefix .. t
    redis.call('XDEL', index, entryId)
    if redis.call('XLEN', index) == 0 then redis.call('DEL', index) end
  end
end

-- the update of this entry stops being kept (unless its id was reused by a later one)
local function unkeep(entryId, fields)
  local uid = field(fields, 'id')
  if uid and redis.call('GET', idPrefix .. uid) == entryId then
    redis.call('DEL', idPrefix .. uid)
    unindex(entryId, fields)
    local claim = field(fields, 'claim')
    if claim then released[#released + 1] = uid; released[#released + 1] = claim end
    if not isPresenceEntry(fields) then count = count - 1 end
  end
end

-- a kept update is in the index of each of its topics, under its own entry id
local function index(entryId, uid)
  for i = 14, 13 + topicCount do
    local key = indexPrefix .. ARGV[i]
    local ok = redis.pcall('XADD', key, entryId, 'u', uid)
    -- an index ahead of the log (the log was deleted behind Herald's back) is stale: start it again
    if type(ok) == 'table' and ok.err then
      redis.call('DEL', key)
      redis.call('XADD', key, entryId, 'u', uid)
    end
  end
end

local existing = redis.call('GET', idKey)
if existing then
  if msOf(existing) >= cutoffMs then return false end
  -- aged out, not trimmed yet: the id is free again
  local old = redis.call('XRANGE', stream, existing, existing)[1]
  redis.call('DEL', idKey)
  if old then unindex(existing, old[2]) end
  if not (old and isPresenceEntry(old[2])) then count = count - 1 end
end

-- head trimming, oldest first: what aged out, then the oldest while the log is full
-- (a message needs room for itself; a presence event takes none)
local room = isPresence and 0 or 1
-- pages start at one entry: a publish usually trims none or one
local examined, pageSize = 0, 1
while examined < BATCH do
  local page = redis.call('XRANGE', stream, '(' .. floor, '+', 'COUNT', pageSize)
  local full = #page == pageSize
  pageSize = math.min(pageSize * 4, 256)
  for _, entry in ipairs(page) do
    if msOf(entry[1]) >= cutoffMs and count + room <= maxTotal then full = false; break end
    unkeep(entry[1], entry[2])
    if isPresenceEntry(entry[2]) then
      if redis.call('LINDEX', presenceKey, 0) == entry[1] then redis.call('LPOP', presenceKey) end
    elseif maxPerTopic > 0 then
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
    local minId = ARGV[7] .. '-0' -- the string: a Lua number this large would print as 1.7e+15
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
-- the bucket's clock (raised by ticks, see tickScript): no later entry goes below it
local ts = ARGV[1]
local clock = redis.call('HGET', metaKey, 'clock')
if clock and tonumber(clock) > tonumber(ts) then ts = clock end
local entryId = redis.pcall('XADD', stream, ts .. '-*', unpack(ARGV, FIELDS))
if type(entryId) == 'table' and entryId.err then
  entryId = redis.call('XADD', stream, '*', unpack(ARGV, FIELDS))
end
local uid = ARGV[FIELDS + 1] -- encodeUpdate puts the id first

if isPresence then
  if maxPresence > 0 then
    redis.call('SET', idKey, entryId)
    index(entryId, uid)
  end
  local length = redis.call('RPUSH', presenceKey, entryId)
  -- the presence event that just left the kept window
  if maxPresence > 0 and length > maxPresence then
    local out = redis.call('LINDEX', presenceKey, -(maxPresence + 1))
    local entry = redis.call('XRANGE', stream, out, out)[1]
    if entry then unkeep(out, entry[2]) end
  end
  -- the ones before it leave the stream after the grace period, or beyond the backlog
  while length > maxPresence do
    local head = redis.call('LINDEX', presenceKey, 0)
    if msOf(head) >= graceCutoff and length <= maxPresence + backlog then break end
    redis.call('LPOP', presenceKey)
    redis.call('XDEL', stream, head)
    length = length - 1
  end
  redis.call('HSET', metaKey, 'count', count, 'floor', floor, 'clock', string.match(entryId, '^%d+'), 'last', entryId)
  return { entryId, unpack(released) }
end

redis.call('SET', idKey, entryId)
index(entryId, uid)
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

redis.call('HSET', metaKey, 'count', count, 'floor', floor, 'clock', string.match(entryId, '^%d+'), 'last', entryId)
return { entryId, unpack(released) }
`);

/**
 * A watermark tick (sharded log): raises the bucket's clock to at least ARGV[1], so that
 * no entry written from now on sorts below it, and returns the clock. KEYS: meta hash.
 */
export const tickScript = new LuaScript(`
local clock = redis.call('HGET', KEYS[1], 'clock')
if not clock or tonumber(clock) < tonumber(ARGV[1]) then
  clock = ARGV[1]
  redis.call('HSET', KEYS[1], 'clock', clock)
end
return clock
`);

/**
 * The merged reader's tick and read of k buckets in one call (docs/redis.md): for each,
 * raises the clock to at least its `at` (no entry written from now on sorts below it),
 * then reads the stream after `from`, so that everything below the clock returned is
 * read. k = 1 on a Cluster (a script's keys share one slot); every bucket at once on a
 * single server. KEYS: meta_1, stream_1, ..., meta_k, stream_k. ARGV: read count, then
 * at_i, from_i per bucket. Returns clock_1, entries_1, ..., clock_k, entries_k.
 */
export const tickReadScript = new LuaScript(`
-- meta.last is the newest entry the publish script wrote: a bucket with nothing after
-- the reader's position (most of them, at a trickle) costs no XRANGE
local function newer(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if not am or not bm then return true end
  if tonumber(am) ~= tonumber(bm) then return tonumber(am) > tonumber(bm) end
  return tonumber(as) > tonumber(bs)
end
local out = {}
for i = 1, #KEYS / 2 do
  local meta, at, from = KEYS[2 * i - 1], ARGV[2 * i], ARGV[2 * i + 1]
  local state = redis.call('HMGET', meta, 'clock', 'last')
  local clock, last = state[1], state[2]
  if not clock or tonumber(clock) < tonumber(at) then
    clock = at
    redis.call('HSET', meta, 'clock', clock)
  end
  out[2 * i - 1] = clock
  if last and not newer(last, from) then
    out[2 * i] = {}
  else
    out[2 * i] = redis.call('XRANGE', KEYS[2 * i], '(' .. from, '+', 'COUNT', ARGV[1])
  end
end
return out
`);
