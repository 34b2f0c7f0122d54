// One subscriber connection as the hub sees it: what it follows, what it may read,
// and where its bytes go. The hub never touches an HTTP response: it writes to a
// SubscriberSink, which the transport implements.
import type { SubscriptionRecord, Update } from '../../broker/types.js';
import type { Claims } from '../auth/authenticator.js';
import { canReceive } from '../auth/authenticator.js';
import { SUBSCRIPTION_TOPIC_PREFIX } from '../presence.js';
import type { MatcherSet } from '../topics/selectors.js';

export interface SubscriberSink {
  /** Queues bytes for the client; never throws. */
  write(chunk: Buffer): void;
  /** Bytes accepted by write() and not yet handed to the kernel. */
  pendingBytes(): number;
  /** Ends the stream (the client reconnects with Last-Event-ID). Idempotent. */
  close(): void;
}

/** A live update kept back while the replay is written. */
export interface HeldUpdate {
  readonly update: Update;
  readonly bytes: Buffer;
}

/**
 * replaying: history is being read page by page; live updates are held.
 * dedupe:    history was sent; live updates already in it are dropped until the
 *            live stream has passed it (it is in log order, so one unseen id ends it).
 * live:      everything goes straight to the sink.
 */
export type SubscriberMode = 'replaying' | 'dedupe' | 'live';

export class Subscriber {
  readonly id: string;
  readonly matchers: MatcherSet;
  readonly claims: Claims | undefined;
  readonly sink: SubscriberSink;
  mode: SubscriberMode = 'live';
  /** Live updates received while replaying, in log order. */
  private held: HeldUpdate[] = [];
  private readonly heldIds = new Set<string>();
  /** Ids sent by the replay, while replaying and in dedupe mode (at most replayMax). */
  replayedIds: Set<string> | null = null;
  /** The newest id of the replay: once the live stream delivers it, dedupe ends. */
  lastReplayedId: string | undefined;
  /** Bytes of `held`, bounded like the sink's queue. */
  heldBytes = 0;
  /** Set when the subscriber follows exactly one exact topic: the fan-out fast path. */
  readonly singleTopic: string | undefined;
  /** Whether private updates of singleTopic (alone) are granted to it. */
  readonly seesPrivateOfSingleTopic: boolean;
  /** Whether the token grants private updates at all (without it, they are refused before any matching). */
  readonly mayReadPrivate: boolean;
  /** Whether subscription events (private, under SUBSCRIPTIONS_PATH) may reach it: the registry indexes it by this. */
  readonly watchesSubscriptions: boolean;
  /** Dispatch round in which it last received something, to deliver once per round. */
  stamp = 0;
  lastWriteAt = 0;
  closed = false;
  /** Its presence records (one per topic selector), removed when it leaves. */
  records: readonly SubscriptionRecord[] = [];

  constructor(id: string, matchers: MatcherSet, claims: Claims | undefined, sink: SubscriberSink) {
    this.id = id;
    this.matchers = matchers;
    this.claims = claims;
    this.sink = sink;
    const exact = matchers.isExactOnly ? matchers.exactTopics() : [];
    this.singleTopic = exact.length === 1 ? exact[0] : undefined;
    this.seesPrivateOfSingleTopic = this.singleTopic !== undefined && canReceive(claims, [this.singleTopic]);
    this.mayReadPrivate = claims?.subscribe != null;
    this.watchesSubscriptions = matchers.canMatchPrefix(SUBSCRIPTION_TOPIC_PREFIX) && claims?.subscribe?.canMatchPrefix(SUBSCRIPTION_TOPIC_PREFIX) === true;
  }

  /** While replaying: keeps a live update for after the replay. Returns the bytes held. */
  hold(item: HeldUpdate): number {
    this.held.push(item);
    this.heldIds.add(item.update.id);
    this.heldBytes += item.bytes.length;
    return this.heldBytes;
  }

  /** Whether a live update with this id is held: the replay has caught up with the live stream. */
  isHeld(id: string): boolean {
    return this.heldIds.has(id);
  }

  /** While replaying: notes what a page sent, so that the same updates arriving live are dropped. */
  noteReplayed(updates: readonly Update[]): void {
    if (updates.length === 0) return;
    this.replayedIds ??= new Set();
    for (const update of updates) this.replayedIds.add(update.id);
    this.lastReplayedId = updates[updates.length - 1]!.id;
  }

  /** The replay is written: dedupe if it sent anything, else live. Returns what was held, in log order. */
  endReplay(): HeldUpdate[] {
    const held = this.held;
    this.held = [];
    this.heldIds.clear();
    this.heldBytes = 0;
    this.mode = this.replayedIds === null ? 'live' : 'dedupe';
    return held;
  }

  /** Whether this subscriber wants and may read the update. */
  accepts(update: Update): boolean {
    if (update.private && !this.mayReadPrivate) return false;
    if (!this.matchers.matchesAny(update.topics)) return false;
    return !update.private || canReceive(this.claims, update.topics);
  }
}
