// The fan-out engine. Updates from the broker are encoded once and queued; once per
// event-loop turn the queue is flushed: subscribers of one exact topic get ONE write
// of one shared buffer (all updates of that topic in the turn, concatenated once),
// every other subscriber gets its own updates concatenated, in log order.
import type { Update } from '../../broker/types.js';
import { checkEvent, encodeEvent } from '../../sse/encode.js';
import { isSubscriptionEvent } from '../presence.js';
import type { SubscriberRegistry } from './registry.js';
import type { Subscriber } from './subscriber.js';

export interface DispatchItem {
  readonly update: Update;
  readonly bytes: Buffer;
  /** Position in this process's dispatch order; also the once-per-update stamp. */
  readonly seq: number;
}

/**
 * An update queued for the next flush. Its bytes are encoded when a subscriber first
 * needs them: an update nobody follows costs no encoding (checked at once, so an
 * update that cannot be encoded is still refused by enqueue, as before).
 */
class QueuedItem implements DispatchItem {
  private encoded: Buffer | undefined;

  constructor(
    readonly update: Update,
    readonly seq: number,
  ) {}

  get bytes(): Buffer {
    return (this.encoded ??= encodeEvent(this.update));
  }
}

export interface DispatchStats {
  updates: number;
  deliveries: number;
  writes: number;
  bytesOut: number;
  slowDisconnects: number;
  /** Streams started with a Last-Event-ID, and the updates their replays sent. */
  replays: number;
  replayedUpdates: number;
}

export interface DispatcherOptions {
  /** Past this many queued bytes a subscriber is too slow: it is disconnected. */
  readonly maxPendingBytes: number;
  /** Called once for a subscriber found too slow; the hub closes and unregisters it. */
  readonly onSlowSubscriber: (subscriber: Subscriber) => void;
  /** Called after each flush with the ids delivered, in order (for Last-Event-ID bookkeeping). */
  readonly onFlushed?: (lastId: string) => void;
}

export class Dispatcher {
  readonly stats: DispatchStats = { updates: 0, deliveries: 0, writes: 0, bytesOut: 0, slowDisconnects: 0, replays: 0, replayedUpdates: 0 };
  /** Observability hook, once per flush after the writes (publish-to-write latency). */
  onFlush: ((items: readonly DispatchItem[]) => void) | undefined;
  private queue: DispatchItem[] = [];
  /**
   * Per flush of several updates: topic -> its update, or its updates once there are
   * two (cleared after each flush, never reallocated). With many topics each usually
   * gets one update per turn: no list is made for it.
   */
  private readonly byTopic = new Map<string, DispatchItem | DispatchItem[]>();
  /** The list of a flush of one update (the slot is emptied after it). */
  private readonly oneItem: DispatchItem[] = [];
  private scheduled = false;
  private seq = 0;
  private readonly registry: SubscriberRegistry;
  private readonly options: DispatcherOptions;

  constructor(registry: SubscriberRegistry, options: DispatcherOptions) {
    this.registry = registry;
    this.options = options;
  }

  /** Called by the broker listener, in log order. */
  enqueue(update: Update): void {
    checkEvent(update);
    this.queue.push(new QueuedItem(update, ++this.seq));
    this.stats.updates++;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Writes everything queued so far. Bound so setImmediate can call it directly. */
  readonly flush = (): void => {
    this.scheduled = false;
    const items = this.queue;
    if (items.length === 0) return;
    this.queue = [];
    if (this.registry.singleByTopic.size > 0) this.flushSingleTopic(items);
    if (this.registry.multiByTopic.size > 0 || this.registry.complex.size > 0) this.flushGeneric(items);
    this.options.onFlushed?.(items[items.length - 1]!.update.id);
    this.onFlush?.(items);
  };

  private flushSingleTopic(items: DispatchItem[]): void {
    // One clock read for the whole fan-out rather than one per subscriber.
    const now = Date.now();
    const single = this.registry.singleByTopic;
    if (items.length === 1) {
      // The common case at chat rates (one update per turn): no table, no list per topic.
      const item = items[0]!;
      this.oneItem[0] = item;
      const topics = item.update.topics;
      for (let i = 0; i < topics.length; i++) {
        const subscribers = single.get(topics[i]!);
        if (subscribers !== undefined && topics.indexOf(topics[i]!) === i) this.flushTopic(subscribers, this.oneItem, now);
      }
      this.oneItem.length = 0;
      return;
    }
    // Reused from flush to flush (cleared below): only lists of topics with two or more updates are new.
    const byTopic = this.byTopic;
    for (const item of items) {
      for (const topic of item.update.topics) {
        if (!single.has(topic)) continue;
        const seen = byTopic.get(topic);
        if (seen === undefined) byTopic.set(topic, item);
        else if (!Array.isArray(seen)) {
          if (seen !== item) byTopic.set(topic, [seen, item]);
        } else if (seen[seen.length - 1] !== item) seen.push(item);
      }
    }
    const one = this.oneItem;
    for (const [topic, seen] of byTopic) {
      const subscribers = single.get(topic);
      if (subscribers === undefined) continue;
      if (Array.isArray(seen)) this.flushTopic(subscribers, seen, now);
      else {
        one[0] = seen;
        this.flushTopic(subscribers, one, now);
      }
    }
    one.length = 0;
    byTopic.clear();
  }

  /** Writes one topic's updates of this turn to its single-topic subscribers: one shared buffer (two with private updates). */
  private flushTopic(subscribers: ReadonlySet<Subscriber>, list: readonly DispatchItem[], now: number): void {
    // A private update with alternate topics may be granted through another topic:
    // then each subscriber is checked on its own.
    let shareable = true;
    for (const item of list) if (item.update.private && item.update.topics.length !== 1) shareable = false;
    let publicBytes: Buffer | undefined;
    let allBytes: Buffer | undefined;
    for (const subscriber of subscribers) {
      if (subscriber.mode !== 'live' || !shareable) {
        const accepted = list.filter((item) => subscriber.accepts(item.update));
        if (accepted.length > 0) this.deliver(subscriber, accepted);
        continue;
      }
      let bytes: Buffer;
      if (subscriber.seesPrivateOfSingleTopic) {
        bytes = allBytes ??= concatItems(list);
      } else {
        bytes = publicBytes ??= publicOnly(list);
      }
      if (bytes.length > 0) this.write(subscriber, bytes, list.length, now);
    }
  }

  private flushGeneric(items: DispatchItem[]): void {
    const perSubscriber = new Map<Subscriber, DispatchItem[]>();
    const visit = (subscriber: Subscriber, item: DispatchItem): void => {
      if (!subscriber.firstVisit(item.seq) || !subscriber.accepts(item.update)) return;
      const list = perSubscriber.get(subscriber);
      if (list === undefined) perSubscriber.set(subscriber, [item]);
      else list.push(item);
    };
    for (const item of items) {
      for (const topic of item.update.topics) {
        const subscribers = this.registry.multiByTopic.get(topic);
        if (subscribers !== undefined) for (const subscriber of subscribers) visit(subscriber, item);
      }
      const complex = isSubscriptionEvent(item.update) ? this.registry.subscriptionWatchers : this.registry.complex;
      for (const subscriber of complex) visit(subscriber, item);
    }
    for (const [subscriber, list] of perSubscriber) this.deliver(subscriber, list);
  }

  /** Delivers live items to one subscriber; a replaying one holds them. */
  deliver(subscriber: Subscriber, items: readonly DispatchItem[]): void {
    if (subscriber.closed) return;
    if (subscriber.mode === 'replaying') {
      let heldBytes = 0;
      for (const item of items) heldBytes = subscriber.hold({ update: item.update, bytes: item.bytes });
      // Held live updates are bounded like the sink: a replay that cannot keep up is cut, the client resumes.
      if (heldBytes > this.options.maxPendingBytes) this.tooSlow(subscriber);
      return;
    }
    if (items.length > 0) this.write(subscriber, concatItems(items), items.length);
  }

  /** Writes one page of a replay (log order); the subscriber is still replaying. */
  writeReplayPage(subscriber: Subscriber, updates: readonly Update[], bytes: Buffer): void {
    if (subscriber.closed || updates.length === 0) return;
    subscriber.noteReplayed(updates);
    this.stats.replayedUpdates += updates.length;
    this.write(subscriber, bytes, updates.length);
  }

  /**
   * Ends a replay once the store's delivery has caught up with it (Broker.caughtUp):
   * what is queued is flushed first, so that every update stored before now is either
   * held by the subscriber or was delivered before it registered; then what was held
   * goes out, minus what the replay already sent.
   */
  finishReplay(subscriber: Subscriber): void {
    this.stats.replays++;
    this.flush();
    const held = subscriber.endReplay();
    if (held.length > 0) this.deliver(subscriber, held.map((h) => ({ update: h.update, bytes: h.bytes, seq: 0 })));
  }

  write(subscriber: Subscriber, bytes: Buffer, deliveries: number, now = Date.now()): void {
    if (subscriber.closed) return;
    subscriber.sink.write(bytes);
    subscriber.wrote(now);
    this.stats.writes++;
    this.stats.deliveries += deliveries;
    this.stats.bytesOut += bytes.length;
    if (subscriber.sink.pendingBytes() > this.options.maxPendingBytes) this.tooSlow(subscriber);
  }

  private tooSlow(subscriber: Subscriber): void {
    this.stats.slowDisconnects++;
    this.options.onSlowSubscriber(subscriber);
  }
}

function concatItems(items: readonly DispatchItem[]): Buffer {
  return items.length === 1 ? items[0]!.bytes : Buffer.concat(items.map((item) => item.bytes));
}

const EMPTY = Buffer.alloc(0);

/** The public updates' bytes; without a copy when all (or the only one) are public. */
function publicOnly(items: readonly DispatchItem[]): Buffer {
  if (items.length === 1) return items[0]!.update.private ? EMPTY : items[0]!.bytes;
  let allPublic = true;
  for (const item of items) if (item.update.private) allPublic = false;
  return concatItems(allPublic ? items : items.filter((item) => !item.update.private));
}
