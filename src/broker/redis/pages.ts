// Where a history read gets its pages of stream entries, in log order or reverse:
// the stream itself (any filter), or the per-topic index streams of the topics a query
// names (an exact-topic resume then costs its matches, not the size of the log). An
// index entry has the log entry's id, so both kinds of pages share bounds and cursors.
import type { RedisClient } from './connection.js';
import { compareEntryIds } from './keys.js';

export type StreamEntry = [id: string, fields: string[]];

export interface PageSource {
  /** Up to `count` entries after the previous page; `done` once the range is exhausted. */
  next(count: number): Promise<{ page: StreamEntry[]; done: boolean }>;
}

/** A range of one stream: `lower`/`upper` are XRANGE bounds (`-`, `+`, `(id`, `id`). */
export interface Range {
  readonly lower: string;
  readonly upper: string;
  readonly forward: boolean;
}

/** Pages of the stream between the bounds. */
export function streamPages(redis: RedisClient, stream: string, range: Range): PageSource {
  let { lower, upper } = range;
  return {
    async next(count) {
      const page = (range.forward
        ? await redis.xrange(stream, lower, upper, 'COUNT', count)
        : await redis.xrevrange(stream, upper, lower, 'COUNT', count)) as StreamEntry[];
      const last = page[page.length - 1];
      if (last !== undefined) {
        if (range.forward) lower = `(${last[0]}`;
        else upper = `(${last[0]}`;
      }
      return { page, done: page.length < count };
    },
  };
}

interface Cursor {
  readonly key: string;
  lower: string;
  upper: string;
  buffer: string[];
  exhausted: boolean;
}

/**
 * Pages of the stream restricted to the entries listed in the index streams
 * `indexKeys` (one per topic): a k-way merge of the indexes by entry id, an update
 * named by several of the topics once, then its entries fetched by id. Reads
 * O(k + entries returned), whatever the size of the log.
 */
export function indexPages(redis: RedisClient, stream: string, indexKeys: readonly string[], range: Range): PageSource {
  const cursors: Cursor[] = indexKeys.map((key) => ({ key, lower: range.lower, upper: range.upper, buffer: [], exhausted: false }));
  const better = (a: string, b: string): boolean => (range.forward ? compareEntryIds(a, b) < 0 : compareEntryIds(a, b) > 0);

  async function refill(count: number): Promise<void> {
    const empty = cursors.filter((c) => c.buffer.length === 0 && !c.exhausted);
    if (empty.length === 0) return;
    const pages = await Promise.all(empty.map((c) => (range.forward
      ? redis.xrange(c.key, c.lower, c.upper, 'COUNT', count)
      : redis.xrevrange(c.key, c.upper, c.lower, 'COUNT', count)) as Promise<StreamEntry[]>));
    empty.forEach((c, i) => {
      const page = pages[i] ?? [];
      c.buffer = page.map(([id]) => id);
      c.exhausted = page.length < count;
      const last = c.buffer[c.buffer.length - 1];
      if (last !== undefined) {
        if (range.forward) c.lower = `(${last}`;
        else c.upper = `(${last}`;
      }
    });
  }

  return {
    async next(count) {
      const picked: string[] = [];
      while (picked.length < count) {
        await refill(count);
        let best: string | undefined;
        for (const c of cursors) {
          const head = c.buffer[0];
          if (head !== undefined && (best === undefined || better(head, best))) best = head;
        }
        if (best === undefined) break;
        for (const c of cursors) if (c.buffer[0] === best) c.buffer.shift();
        picked.push(best);
      }
      const entries = await Promise.all(picked.map((id) => redis.xrange(stream, id, id) as Promise<StreamEntry[]>));
      return { page: entries.flatMap((found) => found.slice(0, 1)), done: picked.length < count };
    },
  };
}
