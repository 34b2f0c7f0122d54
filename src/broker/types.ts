// The one seam between the hub and where updates live. The hub (and the HTTP layer
// above it) only ever sees this interface; cli.ts is the only place that picks an
// implementation. Every implementation runs through broker/contract/contract.ts.

/** A Mercure update, as accepted from a publisher. Immutable once published. */
export interface Update {
  /** The SSE `id`: the publisher's own, or a generated `urn:uuid:...`. Unique in the log. */
  readonly id: string;
  /** At least one; the first is the canonical topic, the rest are alternates. */
  readonly topics: readonly string[];
  /** The payload; may contain newlines (the SSE encoder splits it into `data:` lines). */
  readonly data: string;
  /** Private updates reach only subscribers whose token grants one of the topics. */
  readonly private: boolean;
  /** The SSE `event` field. */
  readonly type?: string;
  /** The SSE `retry` field, in milliseconds. */
  readonly retry?: number;
}

/**
 * Updates one bounded history read examines before handing back: the slice of work
 * between two turns of the event loop, for replays and public history pages alike.
 */
export const HISTORY_SCAN_SLICE = 1000;

export interface HistoryQuery {
  /** Return updates published after this id (exclusive); null or absent: from the earliest kept. */
  readonly afterId?: string | null;
  /** Return updates published before this id (exclusive); absent: up to the newest. */
  readonly beforeId?: string;
  /** Keeps the updates the caller may see and wants; called in log order or reverse. */
  readonly filter: (update: Update) => boolean;
  /**
   * A hint: every update `filter` accepts names at least one of these exact topics
   * (canonical or alternate). A store with a per-topic index may then read only those
   * topics' updates instead of scanning the log; absent, any update may match.
   */
  readonly topics?: readonly string[];
  /** At most this many updates: the NEWEST `limit` matches of the range (the OLDEST with `oldestFirst`), returned oldest first. */
  readonly limit: number;
  /** Scan forward from `afterId` and return the OLDEST `limit` matches: one page of a replay. */
  readonly oldestFirst?: boolean;
  /**
   * Examine at most this many kept updates (matching or not), so that one call is a
   * bounded slice of work; when it stops early, `next` says where to resume.
   */
  readonly maxScan?: number;
  /** The returned updates' data add up to at most this many characters (one larger update is returned alone). */
  readonly maxBytes?: number;
}

export interface HistoryResult {
  /** Oldest first, in log order. */
  readonly updates: Update[];
  /** False when `afterId` (or `beforeId`) was given but is not in the kept log (trimmed or never seen). */
  readonly found: boolean;
  /** True when more matches existed in the range than `limit`. */
  readonly truncated: boolean;
  /**
   * Set when `maxScan` or `maxBytes` stopped the scan before the end of the range: the
   * id of the last update examined. Resume with it as `afterId` (oldestFirst) or as
   * `beforeId` (newest first); it may be trimmed by then (found=false).
   */
  readonly next?: string;
}

/** One active subscription, for the Mercure subscriptions API and presence. */
export interface SubscriptionRecord {
  /**
   * The store's key, and the topic of the subscription's events: `/.well-known/mercure/subscriptions/{match_type}/{match}/{subscriber}`
   * (draft 08), or `/.well-known/mercure/subscriptions/{topic}/{subscriber}` with --subscriptions-format 0.x; each variable URL-encoded once.
   */
  readonly id: string;
  /** The topic selector the subscriber used (the draft's `match`). */
  readonly topic: string;
  /**
   * Its matcher type's canonical name (`exact`, `urlpattern`, `uritemplate`). Absent in
   * records written before it existed (a Redis hash shared with an older process): then
   * the 0.x rule, a template when the selector has a `{`.
   */
  readonly matchType?: string;
  /** The subscriber's IRI (`urn:uuid:...`), one per connection. */
  readonly subscriber: string;
  /** The `payload` of the subscriber's JWT `mercure` claim, if any. */
  readonly payload?: unknown;
}

/** A bounded read of the presence records: one request of the subscriptions API. */
export interface SubscriptionScan {
  /** Keeps the records the caller wants. */
  readonly filter: (record: SubscriptionRecord) => boolean;
  /** Examine at most this many records, matching or not, so that one request costs a bounded amount. */
  readonly maxScan: number;
}

export interface SubscriptionScanResult {
  /** The records kept, in no particular order, each once. */
  readonly records: SubscriptionRecord[];
  /** False when maxScan stopped the scan before every record was examined. */
  readonly complete: boolean;
}

export type Unsubscribe = () => void;

export interface Broker {
  /** For logs and /readyz, e.g. "memory", "sqlite:./data/herald.db", "redis://host:6379/0" (no credentials). */
  readonly description: string;

  /**
   * Appends the update to the log and fans it out to every hub process (this one
   * included). Resolves only once the update is stored: an update whose publish
   * resolved is in history. Rejects with HeraldError code `store_unavailable` when
   * it cannot be stored (nothing is delivered then).
   */
  publish(update: Update): Promise<void>;

  /**
   * Optional, for a store that acknowledges synchronously (memory): publish() without
   * its promise. Returns once the update is stored; throws what publish() would
   * reject with. The hub's publish path uses it when present: no promise per publish.
   * `freshId`: the hub generated the id just now (122 random bits, hub/event-id.ts),
   * so it cannot be in the log and the store may skip its duplicate-id lookup.
   */
  readonly publishNow?: (update: Update, freshId?: boolean) => void;

  /**
   * Like publish, for the hub's own subscription events (presence): delivered to every
   * process in the same log order as messages, and readable in history, but kept under
   * the presence retention (`RetentionOptions.maxPresence`). Presence events never
   * count against, nor evict, messages; past their own cap the oldest presence event
   * goes. Resolves once delivery is ensured (not necessarily on disk: a presence event
   * describes a connection of a running process, which a restart ends anyway).
   */
  publishPresence(update: Update): Promise<void>;

  /**
   * Registers the hub's listener: it receives every update published by any process,
   * exactly once, in log order. The listener is called synchronously and must not throw.
   */
  onUpdate(listener: (update: Update) => void): Unsubscribe;

  /**
   * Optional (a sharded store that filters by interest): the hub says which exact topics
   * a new subscriber needs ('all' for one with a pattern) BEFORE it reads the
   * subscriber's history. Resolves once updates on them published from now on reach
   * onUpdate (earlier ones are in history); the returned function ends that. A broker
   * without it, or not filtering, delivers everything to onUpdate.
   */
  follow?(topics: readonly string[] | 'all'): Promise<Unsubscribe>;

  /** Reads the kept log (see HistoryQuery). */
  history(query: HistoryQuery): Promise<HistoryResult>;

  /**
   * Optional, for a store whose history can hold updates that onUpdate has not delivered
   * yet (Redis: the stream is ahead of the reader). Resolves once every update stored
   * before the call, in what this process follows, has reached onUpdate; rejects with
   * `store_unavailable` when that takes too long. A store without it delivers an update
   * before history can return it (memory, SQLite: in the same synchronous step). The hub
   * waits for it before a replay hands over to live, so one id tells what the replay sent.
   */
  caughtUp?(): Promise<void>;

  /** The id of the newest update in the log, or null when the log is empty. */
  lastEventId(): Promise<string | null>;

  /** Presence bookkeeping: visible to every process sharing the broker. */
  addSubscriptions(records: readonly SubscriptionRecord[]): Promise<void>;
  /**
   * Resolves with the ids it removed, i.e. whose end is still to be announced. An id
   * that is not there (never added, removed already, or reported by
   * onSubscriptionsExpired while this process was frozen) is left out.
   */
  removeSubscriptions(ids: readonly string[]): Promise<string[]>;
  listSubscriptions(): Promise<SubscriptionRecord[]>;
  /** One record by its id, or undefined: a lookup, whatever the number of records. */
  getSubscription(id: string): Promise<SubscriptionRecord | undefined>;
  /** The records `filter` keeps among at most `maxScan` examined (see SubscriptionScan). */
  scanSubscriptions(scan: SubscriptionScan): Promise<SubscriptionScanResult>;

  /**
   * Subscriptions that vanished without a goodbye (their process died). Only
   * shared brokers (Redis) ever call it; the hub publishes their leave events.
   */
  onSubscriptionsExpired(listener: (records: SubscriptionRecord[]) => void): Unsubscribe;

  /**
   * Subscriptions that were reported expired although their process was alive (it was
   * frozen longer than the presence TTL) and that are listed again now that it is
   * back. Only shared brokers call it; the hub publishes their join events again.
   */
  onSubscriptionsRestored(listener: (records: SubscriptionRecord[]) => void): Unsubscribe;

  /** True when the store answers (for /readyz). */
  isReady(): Promise<boolean>;

  /** Flushes pending writes and releases connections. Idempotent. */
  close(): Promise<void>;
}

/** Retention applied by every broker. */
export interface RetentionOptions {
  /** Keep at most this many updates per canonical topic (0: unlimited). */
  readonly maxPerTopic: number;
  /** Drop updates older than this many seconds (0: keep forever). */
  readonly maxAgeSeconds: number;
  /** Keep at most this many updates in the whole log, all topics together (bounds memory). Presence events do not count. */
  readonly maxTotal: number;
  /**
   * Presence events (publishPresence) kept in history, all topics together, on top of
   * maxTotal; 0: delivered live only. Default DEFAULT_MAX_PRESENCE. maxAgeSeconds
   * applies to them too; maxPerTopic does not.
   */
  readonly maxPresence?: number;
}

/** Presence events kept when RetentionOptions.maxPresence is not given. */
export const DEFAULT_MAX_PRESENCE = 1000;

/** The presence cap of `retention`, with its default. */
export function maxPresenceOf(retention: RetentionOptions): number {
  return retention.maxPresence ?? DEFAULT_MAX_PRESENCE;
}
