// Global id claims of the sharded log: `<bucket>|<token>|<deadline>` under the id, in
// the slot of the id's own hash, so that ids stay unique across buckets. A claim is
// released (by its token) when its update stops being kept; one whose bucket does not
// keep the id is free once its deadline passed (the publish script no longer runs then).
import { LuaScript, nowMs } from './scripts.js';

/** KEYS: claim key. ARGV: value. Sets it and returns nil when free; else returns the holder's value. */
export const claimScript = new LuaScript(`
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], ARGV[1])
return false
`);

/**
 * KEYS: claim key. ARGV: the stale value seen, the new value, the stale claim's deadline.
 * Returns 1 (replaced), 0 (changed meanwhile), -1 (its publish may still run).
 */
export const replaceClaimScript = new LuaScript(`${nowMs}
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if now <= tonumber(ARGV[3]) then return -1 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`);

/** KEYS: claim key. ARGV: token. Deletes the claim if it is still that token's. */
export const releaseClaimScript = new LuaScript(`
local held = redis.call('GET', KEYS[1])
if held and string.find(held, '|' .. ARGV[1] .. '|', 1, true) then redis.call('DEL', KEYS[1]) end
return 0
`);

export const claimScripts: readonly LuaScript[] = [claimScript, replaceClaimScript, releaseClaimScript];
