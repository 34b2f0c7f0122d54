// The hub: accepts publications, keeps subscribers, replays history, tracks presence.
// It knows a Broker (never which one) and SubscriberSinks (never an HTTP response).
// Its parts (the broker, the registry, the dispatcher) are private: the HTTP routes,
// the chat, telemetry and shutdown use the methods below, nothing else.
import type { Logger } from 'pino';
import type { Broker, HistoryResult, SubscriptionRecord, SubscriptionScanResult, Unsubscribe, Update } from '../broker/types.js';
import { HeraldError } from '../errors.js';
import { encodeRetry, HEARTBEAT } from '../sse/encode.js';
import { guarded } from '../timers.js';
import { PresenceAnnouncer } from './announcer.js';
import { newUuidUrn } from './event-id.js';
import { payloadFor, type Authenticator, type Claims, type Credentials } from './auth/authenticator.js';
import { lifetimeEnd, TokenExpiry } from './auth/expiry.js';
import { Dispatcher } from './fanout/dispatcher.js';
import { SubscriberRegistry } from './fanout/registry.js';
import { locateResume, streamReplay, type ReplayLimits, type Resume } from './fanout/replay.js';
import { Subscriber, type SubscriberSink } from './fanout/subscriber.js';
import { subscriptionRecords, type SubscriptionsFormat } from './presence.js';
import type { PublicationFields, PublicationLimits } from './publication.js';
import { authorizedBatch, authorizedUpdate, storeBatch } from './publishing.js';
import type { BoundedHistoryQuery, FlushListener, HubOptions, HubSettings, HubStats, Readiness, SubscribeRequest, SubscriptionStart } from './types.js';

export type { BoundedHistoryQuery, FlushListener, HubOptions, HubSettings, HubStats, Readiness, SubscribeRequest, SubscriptionStart } from './types.js';


/** Shared by every stream without presence records (none is ever added to it). */
const NO_RECORDS: readonly SubscriptionRecord[] = Object.freeze([]);
/** --subscriptions-scan's default, for settings made without it. */
const DEFAULT_SUBSCRIPTIONS_SCAN = 10_000;

export class Hub {
  private readonly broker: Broker;
  private readonly authenticator: Authenticator | undefined;
  private readonly settings: HubSettings;
  private readonly logger: Logger;
  private readonly publication: PublicationLimits;
  private readonly replayLimits: ReplayLimits;
  private readonly registry = new SubscriberRegistry();
  private readonly dispatcher: Dispatcher;
  private readonly presence: PresenceAnnouncer;
  private readonly flushListeners = new Set<FlushListener>();
  /** What each subscriber asked the broker to follow (interest filtering), ended on disconnect. */
  private readonly follows = new Map<Subscriber, Unsubscribe>();
  private lastKnownId: string | null;
  private readonly stopListening: Unsubscribe[];
  private readonly heartbeat: NodeJS.Timeout | undefined;
  private readonly tokenExpiry: TokenExpiry;
  private closed = false;

  static async create(options: HubOptions): Promise<Hub> {
    return new Hub(options, await options.broker.lastEventId());
  }

  private constructor(options: HubOptions, lastKnownId: string | null) {
    const { broker, settings, logger } = options;
    this.broker = broker;
    this.authenticator = options.authenticator;
    this.settings = settings;
    this.logger = logger;
    this.publication = { maxTopics: settings.maxTopics, maxDataBytes: settings.dataLimit };
    this.replayLimits = { replayMax: settings.replayMax, maxPendingBytes: settings.subscriberBuffer };
    this.lastKnownId = lastKnownId;
    this.presence = new PresenceAnnouncer(broker, logger, this.subscriptionsFormat);
    this.dispatcher = new Dispatcher(this.registry, {
      maxPendingBytes: settings.subscriberBuffer,
      onSlowSubscriber: (subscriber) => {
        logger.warn({ subscriber: subscriber.id }, 'subscriber too slow: disconnected');
        this.disconnect(subscriber);
      },
    });
    this.stopListening = [
      broker.onUpdate((update) => {
        this.lastKnownId = update.id;
        this.dispatcher.enqueue(update);
      }),
      // Already gone from (or back in) the store: only the events are left to publish.
      broker.onSubscriptionsExpired((records) => void this.presence.publish(records, false)),
      broker.onSubscriptionsRestored((records) => void this.presence.publish(records, true)),
    ];
    const heartbeatMs = settings.heartbeatSeconds * 1000;
    if (heartbeatMs > 0) {
      this.heartbeat = setInterval(guarded('heartbeat', () => this.sendHeartbeats(heartbeatMs), logger), heartbeatMs);
      this.heartbeat.unref();
    }
    // No `retry:` on the way out: the client's reconnect with the same token gets its 401.
    this.tokenExpiry = new TokenExpiry({ log: logger, intervalMs: options.tokenSweepMs, onExpired: (subscriber) => this.disconnect(subscriber) });
  }

  /** The hub's public URL: topics and selectors resolve against it, tokens name it. */
  get url(): string {
    return this.settings.publicUrl;
  }

  /** Most topics of one update, and most selectors of one subscription (--max-topics). */
  get maxTopics(): number {
    return this.settings.maxTopics;
  }

  /** The shape of subscription events and of the subscriptions API (--subscriptions-format). */
  get subscriptionsFormat(): SubscriptionsFormat {
    return this.settings.subscriptionsFormat ?? 'draft';
  }

  get subscriberCount(): number {
    return this.registry.size;
  }

  /** The open streams' sinks (what the HTTP layer gave subscribe()), for sweeps over connections. */
  *sinks(): Iterable<SubscriberSink> {
    for (const subscriber of this.registry.all()) yield subscriber.sink;
  }

  /** Verifies a presented token for a role (`extractCredentials`); no token -> undefined claims. */
  async authenticate(credentials: Credentials | undefined, role: 'publisher' | 'subscriber'): Promise<Claims | undefined> {
    if (credentials === undefined) return undefined;
    if (this.authenticator === undefined) {
      throw new HeraldError('unauthorized', 'This hub has no JWT key configured, so it cannot accept tokens');
    }
    return this.authenticator.verify(credentials.token, role, credentials.source);
  }

  /**
   * authenticate() without a promise when the token was verified before (the
   * authenticator's cache): the publish path's common case. Throws what authenticate()
   * would reject with.
   */
  authenticateNow(credentials: Credentials | undefined, role: 'publisher' | 'subscriber'): Claims | undefined | Promise<Claims | undefined> {
    // Only a header token skips verify(): where any other came from is verify()'s to check.
    if (credentials === undefined || credentials.source !== 'header' || this.authenticator === undefined) return this.authenticate(credentials, role);
    return this.authenticator.cached?.(credentials.token, role) ?? this.authenticator.verify(credentials.token, role, credentials.source);
  }

  /** A publisher's update: validated, authorized, stored, then fanned out. Resolves to its id. */
  async publish(fields: PublicationFields, claims: Claims | undefined): Promise<string> {
    return this.publishNow(fields, claims);
  }

  /**
   * publish() without a promise when the store acknowledges at once (the memory
   * store's publishNow): the id, or a throw of what publish() would reject with.
   * Otherwise the store's promise, resolving to the id.
   */
  publishNow(fields: PublicationFields, claims: Claims | undefined): string | Promise<string> {
    const update = authorizedUpdate(fields, claims, this.settings.publicUrl, this.publication);
    if (this.broker.publishNow !== undefined) {
      // An id the hub drew just now is in no log: the store need not look it up.
      this.broker.publishNow(update, fields.id === undefined);
      return update.id;
    }
    return this.broker.publish(update).then(() => update.id);
  }

  /**
   * Many updates at once (Herald's batch extension): all are checked before any is
   * stored, then they are stored in order. If the store fails midway, the error says
   * which ids were stored, so a publisher can retry exactly the rest.
   */
  async publishBatch(list: readonly PublicationFields[], claims: Claims | undefined): Promise<string[]> {
    return storeBatch(this.broker, authorizedBatch(list, claims, this.settings.publicUrl, this.publication));
  }

  /** An update from Herald itself (e.g. the chat), already validated and authorized. */
  async publishTrusted(update: Update): Promise<void> {
    await this.broker.publish(update);
  }

  async subscribe(request: SubscribeRequest): Promise<SubscriptionStart> {
    if (this.closed) throw new HeraldError('too_many_connections', 'The hub is shutting down');
    if (request.claims === undefined && !this.settings.anonymous) {
      throw new HeraldError('unauthorized', 'Subscribing requires a JWT: this hub does not allow anonymous subscribers', { 'WWW-Authenticate': 'Bearer' });
    }
    const maxCost = this.settings.maxSelectorCost ?? Infinity;
    if (request.matchers.cost > maxCost) {
      throw new HeraldError(
        'selectors_too_costly',
        `These topic selectors cost ${request.matchers.cost} matching steps per topic character; this hub allows ${maxCost} (--max-selector-cost). ` +
          'Use fewer URI templates or URL patterns, or exact topics, which cost 1',
      );
    }
    const id = newUuidUrn();
    const claims = request.claims;
    const records = this.settings.subscriptions ? subscriptionRecords(request.matchers.matchers, id, (selector) => payloadFor(claims, selector), this.subscriptionsFormat) : NO_RECORDS;
    const subscriber = new Subscriber(id, request.matchers, request.claims, request.sink, records);
    const wantsReplay = request.lastEventId !== undefined;
    if (wantsReplay) subscriber.startReplay();
    // Registered before anything is awaited or sent: nothing published from now on is missed.
    this.registry.add(subscriber);
    // A store that delivers only what is followed follows this subscriber's topics first,
    // so that what its history read does not cover is delivered live.
    if (this.broker.follow !== undefined) {
      try {
        const unfollow = await this.broker.follow(subscriber.historyTopics() ?? 'all');
        if (subscriber.closed) unfollow();
        else this.follows.set(subscriber, unfollow);
      } catch (error) {
        this.registry.remove(subscriber);
        throw error;
      }
    }
    let replay: Resume | undefined;
    if (request.lastEventId !== undefined) {
      const filter = (update: Update): boolean => subscriber.accepts(update);
      try {
        replay = await locateResume(this.broker, filter, request.lastEventId, this.replayLimits, subscriber.historyTopics());
      } catch (error) {
        this.registry.remove(subscriber);
        this.follows.get(subscriber)?.();
        this.follows.delete(subscriber);
        throw error;
      }
    }
    // Not when it was cut during the locate (too slow while holding): its leave has gone already.
    if (records.length > 0 && !subscriber.closed) void this.presence.announce(records, true);
    // Guarded: the fields would be built for every connection even with debug off.
    if (this.logger.isLevelEnabled('debug')) {
      this.logger.debug({ subscriber: subscriber.id, topics: request.matchers.matchers.map((matcher) => matcher.source), lastEventId: request.lastEventId, gap: replay?.gap?.reason }, 'subscriber connected');
    }
    return {
      subscriber,
      lastEventId: replay?.cursor ?? this.currentLastEventId(),
      replayTruncated: replay?.start.truncated === true,
      begin: () => {
        subscriber.wrote(Date.now());
        if (this.settings.retryMs !== undefined && this.settings.retryMs > 0) this.dispatcher.write(subscriber, encodeRetry(this.settings.retryMs), 0);
        const lifetime = this.settings.maxConnectionLifetimeSeconds ?? 0;
        if (!subscriber.closed) this.tokenExpiry.track(subscriber, lifetime > 0 ? lifetimeEnd(Date.now(), lifetime * 1000) : undefined);
        return replay === undefined ? Promise.resolve() : this.replay(subscriber, replay);
      },
    };
  }

  /** Streams the replay in the background; a replay that fails or loses its place ends the stream, and the client resumes. */
  private replay(subscriber: Subscriber, start: Resume): Promise<void> {
    const target = {
      subscriber,
      writePage: (updates: readonly Update[], bytes: Buffer) => this.dispatcher.writeReplayPage(subscriber, updates, bytes),
      writeNotice: (bytes: Buffer) => this.dispatcher.write(subscriber, bytes, 0),
    };
    return streamReplay(this.broker, target, start, this.replayLimits).then(
      (outcome) => {
        if (outcome === 'done') this.dispatcher.finishReplay(subscriber);
        else if (outcome === 'lost') {
          this.logger.info({ subscriber: subscriber.id }, 'replay lost its place in the log (trimmed under a slow read): disconnected to resume');
          this.disconnect(subscriber);
        }
      },
      (error: unknown) => {
        this.logger.warn({ err: error, subscriber: subscriber.id }, 'replay failed: disconnected to resume');
        this.disconnect(subscriber);
      },
    );
  }

  /** Ends a subscriber's stream (also called when its connection closes). Idempotent. */
  disconnect(subscriber: Subscriber): void {
    if (!subscriber.markClosed()) return;
    this.registry.remove(subscriber);
    this.follows.get(subscriber)?.();
    this.follows.delete(subscriber);
    this.tokenExpiry.untrack(subscriber);
    subscriber.sink.close();
    if (this.logger.isLevelEnabled('debug')) this.logger.debug({ subscriber: subscriber.id }, 'subscriber disconnected');
    if (subscriber.records.length > 0) void this.presence.announce(subscriber.records, false);
  }

  /** Ends every open stream (each client resumes with its Last-Event-ID). Returns how many. */
  disconnectAll(): number {
    const all = [...this.registry.all()];
    for (const subscriber of all) this.disconnect(subscriber);
    return all.length;
  }

  /**
   * For a graceful shutdown: writes what was already received, then tells every open
   * stream when to come back (`retry:`, `retryMs()` for each, so a caller can spread
   * them). The streams stay open until close(). Returns the streams told.
   */
  drain(retryMs: () => number): number {
    this.dispatcher.flush();
    let told = 0;
    for (const subscriber of this.registry.all()) {
      subscriber.sink.write(encodeRetry(retryMs()));
      told++;
    }
    return told;
  }

  /** A bounded read of the kept log (the chat's history pages), in the order the streams deliver it. */
  history(query: BoundedHistoryQuery): Promise<HistoryResult> {
    return this.broker.history(query);
  }

  async listSubscriptions(): Promise<SubscriptionRecord[]> {
    return this.broker.listSubscriptions();
  }

  /** One presence record by id (the subscriptions API's single resource): a lookup, not a scan. */
  subscription(id: string): Promise<SubscriptionRecord | undefined> {
    return this.broker.getSubscription(id);
  }

  /** The presence records `filter` keeps among at most --subscriptions-scan examined (a collection of the subscriptions API). */
  scanSubscriptions(filter: (record: SubscriptionRecord) => boolean): Promise<SubscriptionScanResult> {
    return this.broker.scanSubscriptions({ filter, maxScan: this.settings.subscriptionsScan ?? DEFAULT_SUBSCRIPTIONS_SCAN });
  }

  /** The id of the newest update this process knows, or 'earliest'. */
  currentLastEventId(): string {
    return this.lastKnownId ?? 'earliest';
  }

  /** Whether the store answers (for /readyz), and which store it is. */
  async readiness(): Promise<Readiness> {
    return { ready: await this.broker.isReady(), store: this.broker.description };
  }

  /** A snapshot of the fan-out's counters and of what is open. */
  stats(): HubStats {
    return { ...this.dispatcher.stats, connections: this.registry.size, subscriptions: this.registry.selectorCount };
  }

  /** Calls `listener` after every flush (publish-to-write latency). Returns its removal. */
  onFlush(listener: FlushListener): Unsubscribe {
    this.flushListeners.add(listener);
    this.dispatcher.onFlush = (items) => {
      for (const each of this.flushListeners) each(items);
    };
    return () => {
      this.flushListeners.delete(listener);
      // Nobody listening: the hot path skips the call altogether.
      if (this.flushListeners.size === 0) this.dispatcher.onFlush = undefined;
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.tokenExpiry.stop();
    this.dispatcher.flush();
    this.disconnectAll();
    for (const stop of this.stopListening) stop();
  }

  private sendHeartbeats(heartbeatMs: number): void {
    const idleSince = Date.now() - heartbeatMs / 2;
    for (const subscriber of this.registry.all()) {
      if (subscriber.mode !== 'replaying' && subscriber.lastWriteAt < idleSince) this.dispatcher.write(subscriber, HEARTBEAT, 0);
    }
  }
}
