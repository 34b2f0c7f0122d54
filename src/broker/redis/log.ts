// One bucket of the Redis broker's log (the whole log when --redis-log-buckets is 1):
// publish through one Lua script, and the kept entries of a range read back in pages,
// from the bucket's stream or from its per-topic index. An entry is part of the kept
// log only while its id key points at it; the stream also holds trimmed entries for a
// grace period (see publish-script.ts). ShardedLog (sharded-log.ts) merges buckets.
import type { Logger } from 'pino';
import { HeraldError } from '../../errors.js';
import type { RedisClock } from './clock.js';
import { COMMAND_TIMEOUT_MS, storeError, type RedisClient } from './connection.js';
import { compareEntryIds, decodeUpdate, distinctTopics, encodeUpdate, entryTimeMs, isPresenceEntry, type RedisKeys } from './keys.js';
import { indexPages, streamPages, type Range, type StreamEntry } from './pages.js';
import { publishScript } from './publish-script.js';
import type { KeptItem, KeptSource } from './scan.js';
import { maxPresenceOf, type RetentionOptions, type Update } from '../types.js';

// The script refuses to run this long before our command timeout fires: room for the
// clock offset's error (half a fast round trip) with a wide margin.
const DEADLINE_MARGIN_MS = 250;
const UNLIMITED = Number.MAX_SAFE_INTEGER;

/** What a bucket's publish did: the entry, and the claims of the updates it stopped keeping. */
export interface Published {
  readonly entryId: string;
  readonly released: ReadonlyArray<readonly [updateId: string, claim: string]>;
}

export interface BucketLogOptions {
  readonly retention: RetentionOptions;
  /** Our clock in ms (age retention, grace). */
  readonly now: () => number;
  /** Entry-id time units per ms: 1 (one bucket: ms, as always) or 1000 (buckets: µs). */
  readonly unit: number;
  /** The time part proposed for the next entry, in units (strictly increasing with buckets). */
  readonly stamp: (atLeast?: number) => number;
  /** How long a trimmed entry stays in the stream for readers that lag behind (ms). */
  readonly trimGraceMs: number;
  /** Presence events past maxPresence that may wait out the grace period in the stream, at most. */
  readonly presenceBacklog: number;
  readonly logger?: Logger;
}

export class RedisLog {
  constructor(
    private readonly redis: RedisClient,
    readonly keys: RedisKeys,
    private readonly clock: RedisClock,
    private readonly opts: BucketLogOptions,
  ) {}

  /**
   * Resolves once Redis has stored the update; `presence`: under the presence retention;
   * `claim`: the global id claim's token (sharded log), kept in the entry to release it;
   * `after`: an entry time the update must sort after (alternates.ts).
   */
  async publish(update: Update, presence = false, claim?: string, after = 0): Promise<Published> {
    const now = Math.max(0, Math.floor(this.opts.now()));
    const { retention, unit } = this.opts;
    const { maxTotal, maxPerTopic } = retention;
    const fields = encodeUpdate(update, presence);
    if (claim !== undefined) fields.push('claim', claim);
    let reply: unknown;
    try {
      reply = await publishScript.run(
        this.redis,
        [this.keys.stream, this.keys.idPrefix + update.id, this.keys.topicPrefix + (update.topics[0] ?? ''), this.keys.meta, this.keys.doomed, this.keys.presence],
        [
          this.opts.stamp(after + 1),
          maxTotal > 0 ? maxTotal : UNLIMITED,
          this.ageCutoff(),
          maxPerTopic,
          this.keys.idPrefix,
          this.keys.topicPrefix,
          Math.max(0, now - this.opts.trimGraceMs) * unit,
          this.clock.deadline(COMMAND_TIMEOUT_MS - DEADLINE_MARGIN_MS),
          presence ? '1' : '0',
          maxPresenceOf(retention),
          this.opts.presenceBacklog,
          this.keys.indexPrefix,
          ...counted(distinctTopics(update)),
          ...fields,
        ],
      );
    } catch (error) {
      this.opts.logger?.warn({ err: error, updateId: update.id }, 'redis publish failed');
      throw storeError(error, 'the update was not published');
    }
    // Only when the clock offset is badly off: Redis ran the script past its deadline.
    if (reply === 0) throw new HeraldError('store_unavailable', 'Redis answered too late; the update was not published');
    if (reply === null) {
      throw new HeraldError('duplicate_id', `An update with id "${update.id}" is already in the log; ids must be unique`);
    }
    const [entryId, ...rest] = (reply as unknown[]).map(String);
    const released: Array<[string, string]> = [];
    for (let i = 0; i + 1 < rest.length; i += 2) released.push([rest[i]!, rest[i + 1]!]);
    return { entryId: entryId!, released };
  }

  /** The entry id of the kept update `updateId` in this bucket, or null. */
  async entryOf(updateId: string): Promise<string | null> {
    const entryId = await this.redis.get(this.keys.idPrefix + updateId);
    return entryId !== null && entryTimeMs(entryId) >= this.ageCutoff() ? entryId : null;
  }

  /**
   * The XRANGE bounds of a read from `lowerInclusive` to before `upperExclusive` (null:
   * open), narrowed to what is kept: after the trimmed head, not older than the age cutoff.
   */
  async range(lowerInclusive: string | null, upperExclusive: string | null, forward: boolean): Promise<Range> {
    // An open range ends at the stream's newest entry as of now: a read over several
    // cursors (topic indexes, buckets) must not see an entry appended after one cursor
    // ran dry but before another reads past it, or it would return a later entry without
    // an earlier one (a gap and, once that one arrives live, an order the live stream
    // never had). What is appended after this snapshot reaches the subscriber live.
    const [floor, newest] = await Promise.all([
      this.redis.hget(this.keys.meta, 'floor'),
      upperExclusive === null ? this.redis.xrevrange(this.keys.stream, '+', '-', 'COUNT', 1) as Promise<StreamEntry[]> : Promise.resolve(undefined),
    ]);
    let lower = lowerInclusive;
    const raise = (candidate: string): void => {
      if (lower === null || compareEntryIds(candidate, lower) > 0) lower = candidate;
    };
    if (floor !== null && floor !== '0-0') raise(nextEntryId(floor));
    const cutoff = this.ageCutoff();
    if (cutoff > 0) raise(`${cutoff}-0`);
    const snapshot = newest === undefined ? undefined : (newest[0]?.[0] ?? '0-0');
    return { lower: lower ?? '-', upper: snapshot ?? `(${upperExclusive}`, forward };
  }

  /** The kept entries of `range`, from the stream, or from the index of `topics` (deduplicated). */
  source(range: Range, bucket: number, topics?: readonly string[]): KeptSource {
    const pages = topics !== undefined
      ? indexPages(this.redis, this.keys.stream, topics.map((t) => this.keys.indexPrefix + t), range)
      : streamPages(this.redis, this.keys.stream, range);
    return {
      next: async (count) => {
        const { page, done } = await pages.next(count);
        return { items: await this.kept(page, bucket), done };
      },
    };
  }

  /** The page's updates that are still kept (trimmed ones wait out their grace in the stream). */
  private async kept(page: readonly StreamEntry[], bucket: number): Promise<KeptItem[]> {
    const decoded = page.map(([entryId, fields]) => ({ entryId, bucket, update: decodeUpdate(fields), presence: isPresenceEntry(fields) }));
    const candidates = decoded.filter((d): d is KeptItem => d.update !== null);
    if (candidates.length === 0) return [];
    const pointers = await this.redis.mget(candidates.map((c) => this.keys.idPrefix + c.update.id));
    return candidates.filter((c, i) => pointers[i] === c.entryId);
  }

  /** Entries published before this time (in entry-id units) have aged out; 0 when age is unlimited. */
  ageCutoff(): number {
    const { retention, now, unit } = this.opts;
    if (retention.maxAgeSeconds <= 0) return 0;
    return Math.max(0, Math.floor(now()) - retention.maxAgeSeconds * 1000) * unit;
  }
}

/** The smallest entry id after `entryId`: an exclusive bound as an inclusive one. */
export function nextEntryId(entryId: string): string {
  const dash = entryId.indexOf('-');
  const ms = dash < 0 ? entryId : entryId.slice(0, dash);
  const seq = dash < 0 ? 0n : BigInt(entryId.slice(dash + 1));
  return `${ms}-${seq + 1n}`;
}

/** A list prefixed with its length, for a script's ARGV. */
function counted(values: readonly string[]): Array<string | number> {
  return [values.length, ...values];
}
