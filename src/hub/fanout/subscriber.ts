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
 * live:      everything goes straight to the sink.
 *
 * The transitions: live -> replaying (startReplay, before it is registered),
 * replaying -> live (endReplay). A replay and the live stream can overlap: a page may
 * hold updates the live stream has not delivered yet. The hub ends a replay only once
 * delivery has caught up with the store (Broker.caughtUp, then a flush), so the last
 * replayed update is then either held, and everything held up to it was sent by the
 * replay, or it was delivered before this subscriber was registered, and everything held
 * comes after it. Either way one id decides, not a set of every replayed one.
 */
export type SubscriberMode = 'replaying' | 'live';

export class Subscriber {
  readonly id: string;
  readonly matchers: MatcherSet;
  readonly claims: Claims | undefined;
  readonly sink: SubscriberSink;
  /** Its presence records (one per topic selector; none without subscription events), removed when it leaves. */
  readonly records: readonly SubscriptionRecord[];
  /** Set when the subscriber follows exactly one exact topic: the fan-out fast path. */
  readonly singleTopic: string | undefined;
  /** Whether private updates of singleTopic (alone) are granted to it. */
  readonly seesPrivateOfSingleTopic: boolean;
  /** Whether the token grants private updates at all (without it, they are refused before any matching). */
  readonly mayReadPrivate: boolean;
  /** Whether subscription events (private, under SUBSCRIPTIONS_PATH) may reach it: the registry indexes it by this. */
  readonly watchesSubscriptions: boolean;
  private state: SubscriberMode = 'live';
  /** Live updates received while replaying, in log order (made on the first one: most streams never replay). */
  private held: HeldUpdate[] | null = null;
  private heldIds: Set<string> | null = null;
  /** Bytes of `held`, bounded like the sink's queue. */
  private heldBytes = 0;
  /** The newest id the replay sent: held updates up to it are not sent again. */
  private lastReplayedId: string | undefined;
  /** Dispatch round in which it last received something, to deliver once per round. */
  private stamp = 0;
  private lastWrite = 0;
  private ended = false;

  constructor(id: string, matchers: MatcherSet, claims: Claims | undefined, sink: SubscriberSink, records: readonly SubscriptionRecord[] = []) {
    this.id = id;
    this.matchers = matchers;
    this.claims = claims;
    this.sink = sink;
    this.records = records;
    const exact = matchers.isExactOnly ? matchers.exactTopics() : [];
    this.singleTopic = exact.length === 1 ? exact[0] : undefined;
    this.seesPrivateOfSingleTopic = this.singleTopic !== undefined && canReceive(claims, [this.singleTopic]);
    this.mayReadPrivate = claims?.subscribe != null;
    this.watchesSubscriptions = matchers.canMatchPrefix(SUBSCRIPTION_TOPIC_PREFIX) && claims?.subscribe?.canMatchPrefix(SUBSCRIPTION_TOPIC_PREFIX) === true;
  }

  get mode(): SubscriberMode {
    return this.state;
  }

  get closed(): boolean {
    return this.ended;
  }

  /** When bytes last went to its sink (the stream's start counts): heartbeats go to idle streams only. */
  get lastWriteAt(): number {
    return this.lastWrite;
  }

  /** Marks the stream ended; false when it already was (closing is idempotent). */
  markClosed(): boolean {
    if (this.ended) return false;
    this.ended = true;
    return true;
  }

  /** Notes a write to its sink (or the response head) at `now`. */
  wrote(now: number): void {
    this.lastWrite = now;
  }

  /** Once per dispatch round: true the first time it is visited in round `seq`. */
  firstVisit(seq: number): boolean {
    if (this.stamp === seq) return false;
    this.stamp = seq;
    return true;
  }

  /** live -> replaying: from now on live updates are held until endReplay. Only before it is registered. */
  startReplay(): void {
    if (this.state !== 'live') throw new Error(`startReplay on a subscriber in mode ${this.state}`);
    this.state = 'replaying';
  }

  /** While replaying: keeps a live update for after the replay. Returns the bytes held. */
  hold(item: HeldUpdate): number {
    (this.held ??= []).push(item);
    (this.heldIds ??= new Set()).add(item.update.id);
    this.heldBytes += item.bytes.length;
    return this.heldBytes;
  }

  /** Whether a live update with this id is held: the replay has caught up with the live stream. */
  isHeld(id: string): boolean {
    return this.heldIds?.has(id) === true;
  }

  /** The first live update held during the replay: the first one sent after it. */
  firstHeldId(): string | undefined {
    return this.held?.[0]?.update.id;
  }

  /** While replaying: notes what a page sent (its last id is all that is kept). */
  noteReplayed(updates: readonly Update[]): void {
    if (updates.length > 0) this.lastReplayedId = updates[updates.length - 1]!.id;
  }

  /** The newest id the replay sent so far, if any. */
  get lastReplayed(): string | undefined {
    return this.lastReplayedId;
  }

  /**
   * replaying -> live. Returns what was held, in log order, minus what the replay sent:
   * called once delivery has caught up with the store, so the held updates up to the
   * last replayed one (if it is held) are exactly those the replay sent too.
   */
  endReplay(): HeldUpdate[] {
    const held = this.held ?? [];
    const last = this.lastReplayedId;
    this.held = null;
    this.heldIds = null;
    this.heldBytes = 0;
    this.lastReplayedId = undefined;
    this.state = 'live';
    if (last === undefined) return held;
    for (let i = 0; i < held.length; i++) if (held[i]!.update.id === last) return held.slice(i + 1);
    return held;
  }

  /** The exact topics every update this subscriber accepts names (a history hint); undefined when it has a pattern or `*`. */
  historyTopics(): string[] | undefined {
    return this.matchers.isExactOnly ? this.matchers.exactTopics() : undefined;
  }

  /** Whether this subscriber wants and may read the update. */
  accepts(update: Update): boolean {
    if (update.private && !this.mayReadPrivate) return false;
    if (!this.matchers.matchesAny(update.topics)) return false;
    return !update.private || canReceive(this.claims, update.topics);
  }
}
