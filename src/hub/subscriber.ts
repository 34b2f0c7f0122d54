// One subscriber connection as the hub sees it: what it follows, what it may read,
// and where its bytes go. The hub never touches an HTTP response: it writes to a
// SubscriberSink, which the transport implements.
import type { SubscriptionRecord, Update } from '../broker/types.js';
import type { Claims } from './auth.js';
import { canReceive } from './auth.js';
import { SUBSCRIPTION_TOPIC_PREFIX } from './presence.js';
import type { MatcherSet } from './selectors.js';

export interface SubscriberSink {
  /** Queues bytes for the client; never throws. */
  write(chunk: Buffer): void;
  /** Bytes accepted by write() and not yet handed to the kernel. */
  pendingBytes(): number;
  /** Ends the stream (the client reconnects with Last-Event-ID). Idempotent. */
  close(): void;
}

/**
 * replaying: history is being read; live updates are held.
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
  held: Array<{ update: Update; bytes: Buffer }> = [];
  /** Ids sent by the replay, while in dedupe mode. */
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

  /** Whether this subscriber wants and may read the update. */
  accepts(update: Update): boolean {
    if (update.private && !this.mayReadPrivate) return false;
    if (!this.matchers.matchesAny(update.topics)) return false;
    return !update.private || canReceive(this.claims, update.topics);
  }
}
