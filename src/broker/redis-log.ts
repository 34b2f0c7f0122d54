// The Redis broker's log: publish through one Lua script, and history read back from
// the global stream newest-first in pages (Mercure's resume needs one order across topics).
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { HeraldError } from '../errors.js';
import { COMMAND_TIMEOUT_MS } from './redis-connection.js';
import { compareEntryIds, decodeUpdate, encodeUpdate, type RedisKeys } from './redis-keys.js';
import { publishScript } from './redis-scripts.js';
import type { HistoryQuery, HistoryResult, RetentionOptions, Update } from './types.js';

const PAGE_SIZE = 200;
// Without an age limit the id keys need no TTL: the publish script deletes them with their entries.
const ID_TTL_SLACK_S = 60;
// A publish script refuses to run this long before our command timeout fires, which
// covers the error of the clock offset (half a fast round trip) with a wide margin.
const DEADLINE_MARGIN_MS = 250;
const MAX_SYNC_RTT_MS = 50;
const CLOCK_SYNC_INTERVAL_MS = 10_000;

type StreamEntry = [id: string, fields: string[]];

export class RedisLog {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly retention: RetentionOptions,
    private readonly now: () => number,
    private readonly logger?: Logger,
  ) {}

  /** Redis' clock minus ours, so a publish deadline can be written in Redis time. */
  private clockOffsetMs = 0;
  private clockTimer: NodeJS.Timeout | null = null;

  async start(): Promise<void> {
    await this.syncClock();
    this.clockTimer = setInterval(() => {
      this.syncClock().catch((error: unknown) => this.logger?.debug({ err: error }, 'redis clock sync failed'));
    }, CLOCK_SYNC_INTERVAL_MS);
    this.clockTimer.unref();
  }

  stop(): void {
    if (this.clockTimer) clearInterval(this.clockTimer);
    this.clockTimer = null;
  }

  /** Resolves with the new entry id once Redis has stored it. */
  async publish(update: Update): Promise<string> {
    const now = Math.max(0, Math.floor(this.now()));
    const canonical = update.topics[0] ?? '';
    const { maxTotal, maxPerTopic, maxAgeSeconds } = this.retention;
    let entryId: unknown;
    try {
      entryId = await publishScript.run(
        this.redis,
        [this.keys.stream, this.keys.idPrefix + update.id, this.keys.topicPrefix + canonical],
        [
          String(now),
          maxTotal,
          this.ageCutoff() ?? '0',
          maxPerTopic,
          maxAgeSeconds > 0 ? maxAgeSeconds + ID_TTL_SLACK_S : 0,
          this.keys.idPrefix,
          this.keys.topicPrefix,
          Math.floor(Date.now() + this.clockOffsetMs + COMMAND_TIMEOUT_MS - DEADLINE_MARGIN_MS),
          ...encodeUpdate(update),
        ],
      );
    } catch (error) {
      this.logger?.warn({ err: error, updateId: update.id }, 'redis publish failed');
      throw new HeraldError('store_unavailable', 'Redis is unreachable; the update was not published');
    }
    // Only seen when the clock offset is badly off: Redis ran the script past its deadline.
    if (entryId === 0) throw new HeraldError('store_unavailable', 'Redis answered too late; the update was not published');
    if (entryId === null) {
      throw new HeraldError('invalid_field', `An update with id "${update.id}" is already in the log; ids must be unique`);
    }
    return String(entryId);
  }

  async history(query: HistoryQuery): Promise<HistoryResult> {
    const notFound: HistoryResult = { updates: [], found: false, truncated: false };
    const cutoff = this.ageCutoff();
    let lower = cutoff === null ? '-' : `${cutoff}-0`;
    if (query.afterId != null) {
      const after = await this.locate(query.afterId, cutoff);
      if (after === null) return notFound;
      lower = `(${after}`;
    }
    let upper = '+';
    if (query.beforeId !== undefined) {
      const before = await this.locate(query.beforeId, cutoff);
      if (before === null) return notFound;
      upper = `(${before}`;
    }
    // Newest first, so the scan can stop as soon as it has limit + 1 matches.
    const matches: Update[] = [];
    for (;;) {
      const page = (await this.redis.xrevrange(this.keys.stream, upper, lower, 'COUNT', PAGE_SIZE)) as StreamEntry[];
      for (const [, fields] of page) {
        const update = decodeUpdate(fields);
        if (update === null || !query.filter(update)) continue;
        matches.push(update);
        if (matches.length > query.limit) {
          return { updates: matches.slice(0, query.limit).reverse(), found: true, truncated: true };
        }
      }
      const last = page[page.length - 1];
      if (page.length < PAGE_SIZE || last === undefined) break;
      upper = `(${last[0]}`;
    }
    return { updates: matches.reverse(), found: true, truncated: false };
  }

  async lastEventId(): Promise<string | null> {
    const cutoff = this.ageCutoff();
    const newest = (await this.redis.xrevrange(this.keys.stream, '+', cutoff === null ? '-' : `${cutoff}-0`, 'COUNT', 1)) as StreamEntry[];
    const entry = newest[0];
    return entry === undefined ? null : (decodeUpdate(entry[1])?.id ?? null);
  }

  private async syncClock(): Promise<void> {
    const sentAt = Date.now();
    const [seconds, micros] = await this.redis.time();
    const receivedAt = Date.now();
    // A slow round trip says little about when Redis read its clock; keep the last good sample.
    if (receivedAt - sentAt > MAX_SYNC_RTT_MS) return;
    this.clockOffsetMs = Number(seconds) * 1000 + Number(micros) / 1000 - (sentAt + receivedAt) / 2;
  }

  /** The entry id of a kept update, or null when it was never seen, trimmed or has aged out. */
  private async locate(updateId: string, cutoff: number | null): Promise<string | null> {
    const entryId = await this.redis.get(this.keys.idPrefix + updateId);
    if (entryId === null) return null;
    if (cutoff !== null && compareEntryIds(entryId, `${cutoff}-0`) < 0) return null;
    const entry = (await this.redis.xrange(this.keys.stream, entryId, entryId)) as StreamEntry[];
    return entry.length > 0 ? entryId : null;
  }

  /** Entries with an id below `<cutoff>-0` are older than maxAgeSeconds; null when age is unlimited. */
  private ageCutoff(): number | null {
    if (this.retention.maxAgeSeconds <= 0) return null;
    const cutoff = Math.floor(this.now()) - this.retention.maxAgeSeconds * 1000;
    return cutoff > 0 ? cutoff : null;
  }
}
