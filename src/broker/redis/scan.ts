// The history read over kept entries, whatever they come from (one bucket's stream or
// index, or several buckets merged into the global order): limit, maxScan and maxBytes
// as the Broker contract defines them, with the resumable `next` cursor.
import { compareEntryIds, entryTimeMs } from './keys.js';
import type { HistoryQuery, HistoryResult, Update } from '../types.js';

const PAGE_SIZE = 200;
const FIRST_BOUNDED_PAGE = 8;

/** One kept update and where it is: its bucket and its entry id there. */
export interface KeptItem {
  readonly entryId: string;
  readonly bucket: number;
  readonly update: Update;
  readonly presence: boolean;
}

export interface KeptSource {
  /** Up to about `count` kept entries after the previous call, in read order; `done` at the end of the range. */
  next(count: number): Promise<{ items: KeptItem[]; done: boolean }>;
}

/** The global order: (entry time, bucket, sequence). With one bucket, the entry id order. */
export function compareItems(a: KeptItem, b: KeptItem): number {
  const ta = entryTimeMs(a.entryId);
  const tb = entryTimeMs(b.entryId);
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (a.bucket !== b.bucket) return a.bucket < b.bucket ? -1 : 1;
  return compareEntryIds(a.entryId, b.entryId);
}

/** A k-way merge of sources that each yield their bucket's entries in read order. */
export function mergeSources(sources: readonly KeptSource[], forward: boolean): KeptSource {
  if (sources.length === 1) return sources[0]!;
  const buffers = sources.map(() => ({ items: [] as KeptItem[], done: false }));
  const before = (a: KeptItem, b: KeptItem): boolean => (forward ? compareItems(a, b) < 0 : compareItems(a, b) > 0);
  return {
    async next(count) {
      const items: KeptItem[] = [];
      while (items.length < count) {
        const empty = buffers.map((b, i) => [b, i] as const).filter(([b]) => b.items.length === 0 && !b.done);
        if (empty.length > 0) {
          const pages = await Promise.all(empty.map(([, i]) => sources[i]!.next(count)));
          empty.forEach(([b], j) => {
            b.items = pages[j]!.items;
            b.done = pages[j]!.done;
          });
          // A source whose page held only trimmed entries is asked again.
          if (empty.some(([b]) => b.items.length === 0 && !b.done)) continue;
        }
        let best: { items: KeptItem[] } | undefined;
        for (const b of buffers) if (b.items[0] !== undefined && (best === undefined || before(b.items[0], best.items[0]!))) best = b;
        if (best === undefined) break;
        items.push(best.items.shift()!);
      }
      return { items, done: items.length < count && buffers.every((b) => b.done && b.items.length === 0) };
    },
  };
}

/**
 * Newest first by default, so the scan can stop as soon as it has limit + 1 matches;
 * forward (a replay page) from the lower bound. Pages shrink when maxBytes is set so
 * that one read never pulls far more than the caller asked for. `dense`: the source
 * yields (mostly) matches (an index), so a page need not be larger than the limit.
 */
export async function scanHistory(query: HistoryQuery, source: KeptSource, dense: boolean): Promise<HistoryResult> {
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
  const pageSize = dense ? Math.min(PAGE_SIZE, query.limit + 1) : PAGE_SIZE;
  // Entry sizes are unknown until a page is read: a byte-bounded scan starts small.
  let count = Math.max(1, Math.min(Number.isFinite(maxBytes) ? FIRST_BOUNDED_PAGE : pageSize, maxScan));
  for (;;) {
    const { items, done: exhausted } = await source.next(count);
    let pageBytes = 0;
    for (const { update, presence } of items) {
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
    const average = pageBytes / Math.max(1, items.length);
    count = Math.max(1, Math.min(PAGE_SIZE, maxScan - scanned, Number.isFinite(maxBytes) ? Math.floor(Math.max(0, maxBytes - bytes) / Math.max(1, average)) + 1 : pageSize));
  }
}
