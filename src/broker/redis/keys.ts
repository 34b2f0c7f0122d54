// Key names and stream-entry encoding shared by the Redis broker's modules.
// docs/redis.md describes the layout; keep the two in step.
import type { Update } from '../types.js';

export interface RedisKeys {
  /** The global log: one Redis Stream holding every update of every topic. */
  readonly stream: string;
  /** `idPrefix + update.id` -> stream entry id, for O(1) Last-Event-ID lookups. */
  readonly idPrefix: string;
  /** Sharded log: `claimPrefix + update id` -> the global claim of ids whose hash is this bucket (claim-scripts.ts). */
  readonly claimPrefix: string;
  /** `topicPrefix + canonical topic` -> list of entry ids (only with maxPerTopic > 0). */
  readonly topicPrefix: string;
  /** `indexPrefix + topic` -> stream of the kept updates naming that topic: entry id = the log's, field `u` = update id. */
  readonly indexPrefix: string;
  /** `altPrefix + topic of this bucket` -> hash of the other buckets naming it as an alternate (alternates.ts). */
  readonly altPrefix: string;
  /** Hash: `count` of kept updates, `floor` = newest entry id trimmed from the head. */
  readonly meta: string;
  /** List of entry ids trimmed from the middle (per topic), waiting to be deleted. */
  readonly doomed: string;
  /** List of the presence events' entry ids still in the stream, oldest first; the newest maxPresence are kept. */
  readonly presence: string;
  /** ZSET of node ids scored by their last heartbeat (Redis server time, ms): the directory of nodes. */
  readonly nodes: string;
  /** Opens a node's own hash tag: `nodePrefix + nodeId + '}:node'` (its records), `...'}:alive'` (its heartbeat); see presence.ts. */
  readonly nodePrefix: string;
}

// The log keys share the `{log}` hash tag, so each Lua script only ever touches keys of
// one Redis Cluster slot. Presence has a directory under `{presence}` and one hash tag
// per node, so nodes' records spread over the slots (and a cluster's masters).
// `tag`: the bucket's hash tag (buckets.ts); `log` for the unsharded log.
export function redisKeys(prefix: string, tag = 'log'): RedisKeys {
  const log = `${prefix}{${tag}}`;
  return {
    stream: `${log}:stream`,
    idPrefix: `${log}:id:`,
    claimPrefix: `${log}:claim:`,
    topicPrefix: `${log}:topic:`,
    indexPrefix: `${log}:ix:`,
    altPrefix: `${log}:alt:`,
    meta: `${log}:meta`,
    doomed: `${log}:doomed`,
    presence: `${log}:presence`,
    nodes: `${prefix}{presence}:nodes`,
    nodePrefix: `${prefix}{presence:`,
  };
}

/**
 * Flat field/value list for XADD. Absent optional fields are left out, not stored empty.
 * A presence event carries `presence` = `1`, for the publish script's retention only.
 */
export function encodeUpdate(update: Update, presence = false): string[] {
  const fields = [
    'id', update.id,
    'topics', JSON.stringify(update.topics),
    'data', update.data,
    'private', update.private ? '1' : '0',
  ];
  if (presence) fields.push('presence', '1');
  if (update.type !== undefined) fields.push('type', update.type);
  if (update.retry !== undefined) fields.push('retry', String(update.retry));
  return fields;
}

/** The update's topics without repeats, in order: one index entry per topic. */
export function distinctTopics(update: Update): string[] {
  return [...new Set(update.topics)];
}

/** Whether a stream entry's fields mark a presence event (see encodeUpdate). */
export function isPresenceEntry(fields: readonly string[]): boolean {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'presence') return fields[i + 1] === '1';
  return false;
}

/** Inverse of encodeUpdate; null for an entry Herald did not write (it is skipped, not fatal). */
export function decodeUpdate(fields: readonly string[]): Update | null {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i] as string, fields[i + 1] as string);
  const id = map.get('id');
  const topicsJson = map.get('topics');
  const data = map.get('data');
  if (id === undefined || topicsJson === undefined || data === undefined) return null;
  let topics: unknown;
  try {
    topics = JSON.parse(topicsJson);
  } catch {
    return null;
  }
  if (!Array.isArray(topics) || !topics.every((t): t is string => typeof t === 'string')) return null;
  const type = map.get('type');
  const retry = map.get('retry');
  return {
    id,
    topics,
    data,
    private: map.get('private') === '1',
    ...(type !== undefined ? { type } : {}),
    ...(retry !== undefined ? { retry: Number(retry) } : {}),
  };
}

/** Orders stream entry ids (`<ms>-<seq>`) numerically; string order is wrong ("9-0" > "10-0"). */
export function compareEntryIds(a: string, b: string): number {
  const [aMs, aSeq] = splitEntryId(a);
  const [bMs, bSeq] = splitEntryId(b);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return 0;
}

/** The millisecond part of a stream entry id: Herald writes the publish time there. */
export function entryTimeMs(entryId: string): number {
  return Number(splitEntryId(entryId)[0]);
}

function splitEntryId(entryId: string): [bigint, bigint] {
  const dash = entryId.indexOf('-');
  if (dash < 0) return [BigInt(entryId), 0n];
  return [BigInt(entryId.slice(0, dash)), BigInt(entryId.slice(dash + 1))];
}
