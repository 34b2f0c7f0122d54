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

/** The state of a replay in progress: made by startReplay, dropped by endReplay (most streams never replay). */
interface ReplayState {
  /** Live updates received while replaying, in log order (made on the first one). */
  held: HeldUpdate[] | null;
  heldIds: Set<string> | null;
  /** Bytes of `held`, bounded like the sink's queue. */
  heldBytes: number;
  /** The newest id the replay sent: held updates up to it are not sent again. */
  lastReplayedId: string | undefined;
}

// The booleans of a subscriber, one bit each of `flags`: one field instead of five.
const SEES_PRIVATE_OF_SINGLE_TOPIC = 1;
const MAY_READ_PRIVATE = 2;
const WATCHES_SUBSCRIPTIONS = 4;
const ENDED = 8;

/**
 * lastWrite is kept relative to this (ms), as an int32 while it fits (24 days): a small
 * integer stays in the field itself, where a Date.now() value, or any result of
 * arithmetic on one, would be a boxed number of 16 bytes per stream.
 */
const WRITE_EPOCH = Date.now();

export class Subscriber {
  readonly id: string;
  readonly matchers: MatcherSet;
  readonly claims: Claims | undefined;
  readonly sink: SubscriberSink;
  /** Its presence records (one per topic selector; none without subscription events), removed when it leaves. */
  readonly records: readonly SubscriptionRecord[];
  /** Set when the subscriber follows exactly one exact topic: the fan-out fast path. */
  readonly singleTopic: string | undefined;
  private flags: number;
  /** Set while replaying (mode 'replaying'). */
  private replay: ReplayState | null = null;
  /** Dispatch round in which it last received something, to deliver once per round. */
  private stamp = 0;
  /** When bytes last went to its sink, minus WRITE_EPOCH; undefined before the first (a tagged field: no box). */
  private lastWrite: number | undefined = undefined;

  constructor(id: string, matchers: MatcherSet, claims: Claims | undefined, sink: SubscriberSink, records: readonly SubscriptionRecord[] = []) {
    this.id = id;
    this.matchers = matchers;
    this.claims = claims;
    this.sink = sink;
    this.records = records;
    const exact = matchers.isExactOnly ? matchers.exactTopics() : [];
    this.singleTopic = exact.length === 1 ? exact[0] : undefined;
    let flags = 0;
    if (this.singleTopic !== undefined && canReceive(claims, [this.singleTopic])) flags |= SEES_PRIVATE_OF_SINGLE_TOPIC;
    if (claims?.subscribe != null) flags |= MAY_READ_PRIVATE;
    if (matchers.canMatchPrefix(SUBSCRIPTION_TOPIC_PREFIX) && claims?.subscribe?.canMatchPrefix(SUBSCRIPTION_TOPIC_PREFIX) === true) flags |= WATCHES_SUBSCRIPTIONS;
    this.flags = flags;
  }

  /** Whether private updates of singleTopic (alone) are granted to it. */
  get seesPrivateOfSingleTopic(): boolean {
    return (this.flags & SEES_PRIVATE_OF_SINGLE_TOPIC) !== 0;
  }

  /** Whether the token grants private updates at all (without it, they are refused before any matching). */
  get mayReadPrivate(): boolean {
    return (this.flags & MAY_READ_PRIVATE) !== 0;
  }

  /** Whether subscription events (private, under SUBSCRIPTIONS_PATH) may reach it: the registry indexes it by this. */
  get watchesSubscriptions(): boolean {
    return (this.flags & WATCHES_SUBSCRIPTIONS) !== 0;
  }

  get mode(): SubscriberMode {
    return this.replay === null ? 'live' : 'replaying';
  }

  get closed(): boolean {
    return (this.flags & ENDED) !== 0;
  }

  /** When bytes last went to its sink (the stream's start counts): heartbeats go to idle streams only. */
  get lastWriteAt(): number {
    return this.lastWrite === undefined ? 0 : this.lastWrite + WRITE_EPOCH;
  }

  /** Marks the stream ended; false when it already was (closing is idempotent). */
  markClosed(): boolean {
    if ((this.flags & ENDED) !== 0) return false;
    this.flags |= ENDED;
    return true;
  }

  /** Notes a write to its sink (or the response head) at `now`. */
  wrote(now: number): void {
    const since = now - WRITE_EPOCH;
    this.lastWrite = (since | 0) === since ? since | 0 : since;
  }

  /** Once per dispatch round: true the first time it is visited in round `seq`. */
  firstVisit(seq: number): boolean {
    if (this.stamp === seq) return false;
    this.stamp = seq;
    return true;
  }

  /** live -> replaying: from now on live updates are held until endReplay. Only before it is registered. */
  startReplay(): void {
    if (this.replay !== null) throw new Error(`startReplay on a subscriber in mode ${this.mode}`);
    this.replay = { held: null, heldIds: null, heldBytes: 0, lastReplayedId: undefined };
  }

  /** While replaying: keeps a live update for after the replay. Returns the bytes held. */
  hold(item: HeldUpdate): number {
    const replay = this.replaying('hold');
    (replay.held ??= []).push(item);
    (replay.heldIds ??= new Set()).add(item.update.id);
    replay.heldBytes += item.bytes.length;
    return replay.heldBytes;
  }

  /** Whether a live update with this id is held: the replay has caught up with the live stream. */
  isHeld(id: string): boolean {
    return this.replay?.heldIds?.has(id) === true;
  }

  /** The first live update held during the replay: the first one sent after it. */
  firstHeldId(): string | undefined {
    return this.replay?.held?.[0]?.update.id;
  }

  /** While replaying: notes what a page sent (its last id is all that is kept). */
  noteReplayed(updates: readonly Update[]): void {
    if (updates.length > 0) this.replaying('noteReplayed').lastReplayedId = updates[updates.length - 1]!.id;
  }

  /** The newest id the replay sent so far, if any. */
  get lastReplayed(): string | undefined {
    return this.replay?.lastReplayedId;
  }

  /**
   * replaying -> live. Returns what was held, in log order, minus what the replay sent:
   * called once delivery has caught up with the store, so the held updates up to the
   * last replayed one (if it is held) are exactly those the replay sent too.
   */
  endReplay(): HeldUpdate[] {
    const replay = this.replay;
    this.replay = null;
    const held = replay?.held ?? [];
    const last = replay?.lastReplayedId;
    if (last === undefined) return held;
    for (let i = 0; i < held.length; i++) if (held[i]!.update.id === last) return held.slice(i + 1);
    return held;
  }

  private replaying(what: string): ReplayState {
    if (this.replay === null) throw new Error(`${what} on a subscriber in mode live`);
    return this.replay;
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
