// The kept update log of the embedded brokers, in memory: the whole store of the
// memory broker and the read side of the SQLite broker. One entry per update in log
// order, an id map for O(1) lookups, and a chain per canonical topic so that every
// retention rule removes an entry in O(1). History scans backwards from its newest
// bound, so a reconnecting subscriber costs only what it missed; a replay reads it
// forward in pages bounded by count and bytes.
//
// Presence events (the hub's subscription events) share the order but not the
// retention: they have their own chain and cap, and never count against maxTotal.
import { maxPresenceOf, type HistoryQuery, type HistoryResult, type RetentionOptions, type Update } from '../types.js';

interface Entry {
  readonly update: Update;
  /** The store's sequence number (SQLite rowid), reported back on removal. */
  readonly seq: number;
  /** When it was published (ms). */
  readonly ts: number;
  /** Position in `slots`; changes when the array is compacted. */
  index: number;
  /** The next newer entry of its chain: same canonical topic, or the presence chain. */
  nextInTopic: Entry | undefined;
  /** A presence event: in the presence chain, not counted as a message. */
  readonly presence: boolean;
}

interface TopicChain {
  oldest: Entry;
  newest: Entry;
  count: number;
}

/**
 * Told about every removed message (presence events are not stored), so a store can
 * delete it too. `fromHead` is true when it was the oldest message of the log:
 * every message with a lower seq is gone too.
 */
export type RemovalListener = (seq: number, fromHead: boolean) => void;

export interface UpdateLogOptions {
  /** Told about every removed entry. */
  readonly onRemove?: RemovalListener;
  /**
   * Holes (removed entries) tolerated in the array before compacting it, at least;
   * beyond that, as many as live entries (default 1024). Compaction copies the live
   * entries, so this keeps its cost amortised O(1) per removal.
   */
  readonly minHoles?: number;
}

export class UpdateLog {
  private slots: (Entry | undefined)[] = [];
  /** Index of the oldest live entry (or slots.length when empty). */
  private head = 0;
  private live = 0;
  /** Live entries that are messages; maxTotal bounds this. */
  private messages = 0;
  private readonly byId = new Map<string, Entry>();
  private readonly topics = new Map<string, TopicChain>();
  private presenceChain: TopicChain | undefined;
  private readonly maxPresence: number;

  private readonly onRemove: RemovalListener | undefined;
  private readonly minHoles: number;

  constructor(
    private readonly retention: RetentionOptions,
    opts: UpdateLogOptions = {},
  ) {
    this.onRemove = opts.onRemove;
    this.minHoles = opts.minHoles ?? 1024;
    this.maxPresence = maxPresenceOf(retention);
  }

  /** Kept entries, presence events included. */
  get size(): number {
    return this.live;
  }

  /** Kept presence events. */
  get presenceSize(): number {
    return this.presenceChain?.count ?? 0;
  }

  /** Whether presence events are kept at all (maxPresence > 0). */
  get keepsPresence(): boolean {
    return this.maxPresence > 0;
  }

  /** Array slots in use, holes included: stays within a constant factor of `size`. */
  get footprint(): number {
    return this.slots.length;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  newest(): Update | undefined {
    return this.live === 0 ? undefined : this.slots[this.slots.length - 1]?.update;
  }

  /** Appends an update whose id is not in the log, then applies the count limits. */
  append(update: Update, seq: number, ts: number): void {
    const entry = this.push(update, seq, ts, false);
    this.messages++;
    const topic = update.topics[0] ?? '';
    const chain = this.topics.get(topic);
    if (chain === undefined) {
      this.topics.set(topic, { oldest: entry, newest: entry, count: 1 });
    } else {
      chain.newest.nextInTopic = entry;
      chain.newest = entry;
      chain.count++;
      const max = this.retention.maxPerTopic;
      if (max > 0 && chain.count > max) this.remove(chain.oldest, false);
    }
    // Presence events older than the message trimmed here go with it (the head is the oldest of all).
    const maxTotal = this.retention.maxTotal;
    while (maxTotal > 0 && this.messages > maxTotal) this.removeHead();
  }

  /**
   * Appends a presence event whose id is not in the log, then applies the presence cap
   * (its oldest presence event goes); with maxPresence 0 nothing is kept.
   */
  appendPresence(update: Update, ts: number): void {
    if (this.maxPresence <= 0) return;
    const entry = this.push(update, 0, ts, true);
    const chain = this.presenceChain;
    if (chain === undefined) {
      this.presenceChain = { oldest: entry, newest: entry, count: 1 };
      return;
    }
    chain.newest.nextInTopic = entry;
    chain.newest = entry;
    chain.count++;
    if (chain.count > this.maxPresence) this.remove(chain.oldest, false);
  }

  /**
   * Drops the entries published before `cutoff` (ms), oldest first. It stops at the
   * first entry still fresh: after a clock step back, what follows it waits for it.
   */
  expireBefore(cutoff: number): void {
    while (this.live > 0) {
      const oldest = this.slots[this.head];
      if (oldest === undefined || oldest.ts >= cutoff) return;
      this.remove(oldest, true);
    }
  }

  history(query: HistoryQuery): HistoryResult {
    let start = this.head;
    let end = this.slots.length;
    if (query.afterId !== undefined && query.afterId !== null) {
      const after = this.byId.get(query.afterId);
      if (after === undefined) return { updates: [], found: false, truncated: false };
      start = after.index + 1;
    }
    if (query.beforeId !== undefined) {
      const before = this.byId.get(query.beforeId);
      if (before === undefined) return { updates: [], found: false, truncated: false };
      end = before.index;
    }
    const maxScan = query.maxScan ?? Number.POSITIVE_INFINITY;
    const maxBytes = query.maxBytes ?? Number.POSITIVE_INFINITY;
    const forward = query.oldestFirst === true;
    const updates: Update[] = [];
    let truncated = false;
    let next: string | undefined;
    let scanned = 0;
    let bytes = 0;
    let examined: string | undefined;
    // The cursor handed back: the last message or returned update examined, which
    // presence churn cannot evict under a paging reader; a presence event only when
    // the slice held nothing else (else the next slice would examine the same again).
    let stable: string | undefined;
    for (let n = end - start, i = forward ? start : end - 1; n > 0; n--, i += forward ? 1 : -1) {
      const entry = this.slots[i];
      if (entry === undefined) continue;
      if (scanned >= maxScan) {
        next = stable ?? examined;
        break;
      }
      const previous = stable ?? examined;
      scanned++;
      examined = entry.update.id;
      if (!entry.presence) stable = examined;
      if (!query.filter(entry.update)) continue;
      if (updates.length >= query.limit) {
        truncated = true;
        break;
      }
      // Never over maxBytes, unless one update alone is: then it is the whole page.
      if (updates.length > 0 && bytes + entry.update.data.length > maxBytes) {
        next = previous;
        break;
      }
      updates.push(entry.update);
      stable = entry.update.id;
      bytes += entry.update.data.length;
    }
    if (!forward) updates.reverse();
    return next === undefined ? { updates, found: true, truncated } : { updates, found: true, truncated, next };
  }

  private push(update: Update, seq: number, ts: number, presence: boolean): Entry {
    const entry: Entry = { update, seq, ts, index: this.slots.length, nextInTopic: undefined, presence };
    this.slots.push(entry);
    this.byId.set(update.id, entry);
    this.live++;
    return entry;
  }

  private removeHead(): void {
    const oldest = this.slots[this.head];
    if (oldest !== undefined) this.remove(oldest, true);
  }

  // Every rule removes the oldest entry of its topic: per-topic trimming by
  // definition, head removal because nothing older is left anywhere.
  // (The presence cap and head removal likewise remove the oldest presence event.)
  private remove(entry: Entry, fromHead: boolean): void {
    const topic = entry.update.topics[0] ?? '';
    const chain = entry.presence ? this.presenceChain : this.topics.get(topic);
    if (chain !== undefined) {
      if (entry.nextInTopic === undefined) {
        if (entry.presence) this.presenceChain = undefined;
        else this.topics.delete(topic);
      } else {
        chain.oldest = entry.nextInTopic;
        chain.count--;
      }
    }
    if (!entry.presence) this.messages--;
    entry.nextInTopic = undefined;
    this.slots[entry.index] = undefined;
    this.byId.delete(entry.update.id);
    this.live--;
    while (this.head < this.slots.length && this.slots[this.head] === undefined) this.head++;
    if (this.slots.length - this.live > Math.max(this.minHoles, this.live)) this.compact();
    if (!entry.presence) this.onRemove?.(entry.seq, fromHead);
  }

  private compact(): void {
    const kept: Entry[] = new Array<Entry>(this.live);
    let n = 0;
    for (let i = this.head; i < this.slots.length; i++) {
      const entry = this.slots[i];
      if (entry === undefined) continue;
      entry.index = n;
      kept[n++] = entry;
    }
    this.slots = kept;
    this.head = 0;
  }
}
