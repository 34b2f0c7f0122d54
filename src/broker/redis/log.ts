// The Redis broker's log: publish through one Lua script, and history read back from
// the global stream newest-first in pages (Mercure's resume needs one order across
// topics). An entry is part of the kept log only while its id key points at it; the
// stream also holds trimmed entries for a grace period (see redis-publish-script.ts).
import type { Logger } from 'pino';
import { HeraldError } from '../../errors.js';
import type { RedisClock } from './clock.js';
import { COMMAND_TIMEOUT_MS, storeError, type RedisClient } from './connection.js';
import { compareEntryIds, decodeUpdate, distinctTopics, encodeUpdate, entryTimeMs, isPresenceEntry, type RedisKeys } from './keys.js';
import { indexPages, streamPages, type PageSource, type Range, type StreamEntry } from './pages.js';
import { publishScript } from './publish-script.js';
import { maxPresenceOf, type HistoryQuery, type HistoryResult, type RetentionOptions, type Update } from '../types.js';

const PAGE_SIZE = 200;
const FIRST_BOUNDED_PAGE = 8;
// The script refuses to run this long before our command timeout fires: room for the
// clock offset's error (half a fast round trip) with a wide margin.
const DEADLINE_MARGIN_MS = 250;
const UNLIMITED = Number.MAX_SAFE_INTEGER;
// A query naming more exact topics than this scans the log: k index reads per page
// would cost more than they save.
const MAX_INDEXED_TOPICS = 64;

export class RedisLog {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly retention: RetentionOptions,
    private readonly clock: RedisClock,
    private readonly now: () => number,
    /** How long a trimmed entry stays in the stream for readers that lag behind. */
    private readonly trimGraceMs: number,
    /** Presence events past maxPresence that may wait out the grace period in the stream, at most. */
    private readonly presenceBacklog: number,
    private readonly logger?: Logger,
  ) {}

  /** Resolves with the new entry id once Redis has stored it; `presence`: under the presence retention. */
  async publish(update: Update, presence = false): Promise<string> {
    const now = Math.max(0, Math.floor(this.now()));
    const { maxTotal, maxPerTopic } = this.retention;
    let entryId: unknown;
    try {
      entryId = await publishScript.run(
        this.redis,
        [
          this.keys.stream,
          this.keys.idPrefix + update.id,
          this.keys.topicPrefix + (update.topics[0] ?? ''),
          this.keys.meta,
          this.keys.doomed,
          this.keys.presence,
        ],
        [
          now,
          maxTotal > 0 ? maxTotal : UNLIMITED,
          this.ageCutoff(),
          maxPerTopic,
          this.keys.idPrefix,
          this.keys.topicPrefix,
          Math.max(0, now - this.trimGraceMs),
          this.clock.deadline(COMMAND_TIMEOUT_MS - DEADLINE_MARGIN_MS),
          presence ? '1' : '0',
          maxPresenceOf(this.retention),
          this.presenceBacklog,
          this.keys.indexPrefix,
          ...counted(distinctTopics(update)),
          ...encodeUpdate(update, presence),
        ],
      );
    } catch (error) {
      this.logger?.warn({ err: error, updateId: update.id }, 'redis publish failed');
      throw storeError(error, 'the update was not published');
    }
    // Only when the clock offset is badly off: Redis ran the script past its deadline.
    if (entryId === 0) throw new HeraldError('store_unavailable', 'Redis answered too late; the update was not published');
    if (entryId === null) {
      throw new HeraldError('duplicate_id', `An update with id "${update.id}" is already in the log; ids must be unique`);
    }
    return String(entryId);
  }

  async history(query: HistoryQuery): Promise<HistoryResult> {
    const notFound: HistoryResult = { updates: [], found: false, truncated: false };
    const cutoff = this.ageCutoff();
    const [after, before, floor] = await Promise.all([
      query.afterId != null ? this.redis.get(this.keys.idPrefix + query.afterId) : undefined,
      query.beforeId !== undefined ? this.redis.get(this.keys.idPrefix + query.beforeId) : undefined,
      this.redis.hget(this.keys.meta, 'floor'),
    ]);
    const kept = (entryId: string | null | undefined): entryId is string => typeof entryId === 'string' && entryTimeMs(entryId) >= cutoff;
    if ((after !== undefined && !kept(after)) || (before !== undefined && !kept(before))) return notFound;

    // The lower bound is the highest of: afterId (exclusive), the trimmed head (exclusive), the age cutoff.
    let lowerExclusive = after ?? null;
    if (floor !== null && floor !== '0-0' && (lowerExclusive === null || compareEntryIds(floor, lowerExclusive) > 0)) lowerExclusive = floor;
    let lower = lowerExclusive === null ? '-' : `(${lowerExclusive}`;
    if (cutoff > 0 && (lowerExclusive === null || compareEntryIds(`${cutoff}-0`, lowerExclusive) > 0)) lower = `${cutoff}-0`;
    const upper = before === undefined ? '+' : `(${before}`;

    const range: Range = { lower, upper, forward: query.oldestFirst === true };
    const topics = query.topics === undefined ? undefined : [...new Set(query.topics)];
    const indexed = topics !== undefined && topics.length <= MAX_INDEXED_TOPICS;
    const source = indexed
      ? indexPages(this.redis, this.keys.stream, topics.map((t) => this.keys.indexPrefix + t), range)
      : streamPages(this.redis, this.keys.stream, range);
    return this.scan(query, source, indexed);
  }

  // Newest first by default, so the scan can stop as soon as it has limit + 1 matches;
  // forward (a replay page) from the lower bound. Pages shrink when maxBytes is set so
  // that one read never pulls far more than the caller asked for.
  // `dense`: the source yields (mostly) matches, so a page need not be larger than the limit.
  private async scan(query: HistoryQuery, source: PageSource, dense: boolean): Promise<HistoryResult> {
    const forward = query.oldestFirst === true;
    const maxScan = query.maxScan ?? Number.POSITIVE_INFINITY;
    const maxBytes = query.maxBytes ?? Number.POSITIVE_INFINITY;
    const matches: Update[] = [];
    const done = (truncated: boolean, next?: string): HistoryResult => {
      if (!forward) matches.reverse();
      return next === undefined ? { updates: matches, found: true, truncated } : { updates: matches, found: true, truncated, next };
    };
    let scanned = 0;
    let bytes = 0;
    let examined: string | undefined;
    // As in UpdateLog: hand back a message or a returned update as the cursor, so that
    // presence churn cannot evict it under a paging reader.
    let stable: string | undefined;
    // Entry sizes are unknown until a page is read: a byte-bounded scan starts small.
    const pageSize = dense ? Math.min(PAGE_SIZE, query.limit + 1) : PAGE_SIZE;
    let count = Math.max(1, Math.min(Number.isFinite(maxBytes) ? FIRST_BOUNDED_PAGE : pageSize, maxScan));
    for (;;) {
      const { page, done: exhausted } = await source.next(count);
      let pageBytes = 0;
      for (const { update, presence } of await this.keptUpdates(page)) {
        if (scanned >= maxScan) return done(false, stable ?? examined);
        const previous = stable ?? examined;
        scanned++;
        examined = update.id;
        if (!presence) stable = examined;
        pageBytes += update.data.length;
        if (!query.filter(update)) continue;
        if (matches.length >= query.limit) return done(true);
        // Never over maxBytes, unless one update alone is: then it is the whole page.
        if (matches.length > 0 && bytes + update.data.length > maxBytes) return done(false, previous);
        matches.push(update);
        stable = update.id;
        bytes += update.data.length;
      }
      if (exhausted) return done(false);
      if (scanned >= maxScan) return done(false, stable ?? examined);
      const average = pageBytes / Math.max(1, page.length);
      count = Math.max(1, Math.min(PAGE_SIZE, maxScan - scanned, Number.isFinite(maxBytes) ? Math.floor(Math.max(0, maxBytes - bytes) / Math.max(1, average)) + 1 : pageSize));
    }
  }

  async lastEventId(): Promise<string | null> {
    const newest = await this.history({ filter: () => true, limit: 1 });
    return newest.updates[0]?.id ?? null;
  }

  /** The page's updates that are still kept (trimmed ones wait out their grace in the stream). */
  private async keptUpdates(page: readonly StreamEntry[]): Promise<Array<{ update: Update; presence: boolean }>> {
    const decoded = page.map(([entryId, fields]) => ({ entryId, update: decodeUpdate(fields), presence: isPresenceEntry(fields) }));
    const candidates = decoded.filter((d): d is { entryId: string; update: Update; presence: boolean } => d.update !== null);
    if (candidates.length === 0) return [];
    const pointers = await this.redis.mget(candidates.map((c) => this.keys.idPrefix + c.update.id));
    return candidates.filter((c, i) => pointers[i] === c.entryId);
  }

  /** Entries published before this ms have aged out; 0 when age is unlimited. */
  private ageCutoff(): number {
    if (this.retention.maxAgeSeconds <= 0) return 0;
    return Math.max(0, Math.floor(this.now()) - this.retention.maxAgeSeconds * 1000);
  }
}

/** A list prefixed with its length, for a script's ARGV. */
function counted(values: readonly string[]): Array<string | number> {
  return [values.length, ...values];
}
