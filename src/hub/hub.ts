// The hub: accepts publications, keeps subscribers, replays history, tracks presence.
// It knows a Broker (never which one) and SubscriberSinks (never an HTTP response).
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Broker, SubscriptionRecord, Unsubscribe, Update } from '../broker/types.js';
import { HeraldError } from '../errors.js';
import { HEARTBEAT } from '../sse/encode.js';
import type { Authenticator, Claims } from './auth/authenticator.js';
import { canPublish } from './auth/authenticator.js';
import { guarded } from '../timers.js';
import { TokenExpiry } from './auth/expiry.js';
import { Dispatcher } from './fanout/dispatcher.js';
import { locateReplay, streamReplay, type ReplayLimits, type ReplayStart } from './fanout/replay.js';
import { subscriptionRecords, subscriptionUpdate } from './presence.js';
import { toUpdate, type PublicationFields, type PublicationLimits } from './publication.js';
import { SubscriberRegistry } from './fanout/registry.js';
import type { MatcherSet } from './topics/selectors.js';
import { Subscriber, type SubscriberSink } from './fanout/subscriber.js';

export interface HubOptions {
  readonly broker: Broker;
  /** Verifies tokens; undefined when no key is configured (then no token is accepted). */
  readonly authenticator: Authenticator | undefined;
  readonly hubUrl: string;
  readonly anonymous: boolean;
  /** 0: no heartbeats. */
  readonly heartbeatMs: number;
  readonly replayMax: number;
  /** Most matching steps per topic character a subscription's selectors may cost (MatcherSet.cost); absent: no bound. */
  readonly maxSelectorCost?: number;
  readonly maxPendingBytes: number;
  readonly publication: PublicationLimits;
  /** Publish Mercure subscription events (presence) on connect and disconnect. */
  readonly subscriptionEvents: boolean;
  readonly logger: Logger;
  /** Period of the sweep that ends streams whose token expired. Default 1000 ms. */
  readonly tokenSweepMs?: number;
}

export interface SubscribeRequest {
  readonly matchers: MatcherSet;
  /** The selectors as the subscriber wrote them (one presence record each). */
  readonly selectors: readonly string[];
  readonly claims: Claims | undefined;
  /** Absent: live updates only; 'earliest': every kept update first; else those after this id. */
  readonly lastEventId: string | undefined;
  readonly sink: SubscriberSink;
}

export interface SubscriptionStart {
  readonly subscriber: Subscriber;
  /** For the Last-Event-ID response header: where this stream starts, or 'earliest' when the requested id is unknown. */
  readonly lastEventId: string;
  /**
   * Starts writing the replay (page by page), then the held live updates; call once the
   * response headers are out. Resolves when the replay is over (written, or the stream
   * ended); never rejects.
   */
  begin(): Promise<void>;
}

export class Hub {
  readonly registry = new SubscriberRegistry();
  readonly dispatcher: Dispatcher;
  readonly options: HubOptions;
  private lastKnownId: string | null;
  private readonly stopListening: Unsubscribe[];
  private readonly heartbeat: NodeJS.Timeout | undefined;
  private readonly tokenExpiry: TokenExpiry;
  private closed = false;

  static async create(options: HubOptions): Promise<Hub> {
    return new Hub(options, await options.broker.lastEventId());
  }

  private constructor(options: HubOptions, lastKnownId: string | null) {
    this.options = options;
    this.lastKnownId = lastKnownId;
    this.dispatcher = new Dispatcher(this.registry, {
      maxPendingBytes: options.maxPendingBytes,
      onSlowSubscriber: (subscriber) => {
        options.logger.warn({ subscriber: subscriber.id }, 'subscriber too slow: disconnected');
        this.disconnect(subscriber);
      },
    });
    this.stopListening = [
      options.broker.onUpdate((update) => {
        this.lastKnownId = update.id;
        this.dispatcher.enqueue(update);
      }),
      // Already gone from (or back in) the store: only the events are left to publish.
      options.broker.onSubscriptionsExpired((records) => void this.publishPresence(records, false)),
      options.broker.onSubscriptionsRestored((records) => void this.publishPresence(records, true)),
    ];
    if (options.heartbeatMs > 0) {
      this.heartbeat = setInterval(guarded('heartbeat', () => this.sendHeartbeats(), options.logger), options.heartbeatMs);
      this.heartbeat.unref();
    }
    // No `retry:` on the way out: the client's reconnect with the same token gets its 401.
    this.tokenExpiry = new TokenExpiry({ log: options.logger, intervalMs: options.tokenSweepMs, onExpired: (subscriber) => this.disconnect(subscriber) });
  }

  get subscriberCount(): number {
    return this.registry.size;
  }

  /** Verifies a token for a role; undefined token -> undefined claims. */
  async authenticate(token: string | undefined, role: 'publisher' | 'subscriber'): Promise<Claims | undefined> {
    if (token === undefined) return undefined;
    if (this.options.authenticator === undefined) {
      throw new HeraldError('unauthorized', 'This hub has no JWT key configured, so it cannot accept tokens');
    }
    return this.options.authenticator.verify(token, role);
  }

  /** A publisher's update: validated, authorized, stored, then fanned out. Resolves to its id. */
  async publish(fields: PublicationFields, claims: Claims | undefined): Promise<string> {
    const update = this.authorizedUpdate(fields, claims);
    await this.options.broker.publish(update);
    return update.id;
  }

  /**
   * Many updates at once (Herald's batch extension): all are checked before any is
   * stored, then they are stored in order. If the store fails midway, the error says
   * which ids were stored, so a publisher can retry exactly the rest.
   */
  async publishBatch(list: readonly PublicationFields[], claims: Claims | undefined): Promise<string[]> {
    const updates = list.map((fields, index) => {
      try {
        return this.authorizedUpdate(fields, claims);
      } catch (error) {
        if (error instanceof HeraldError) throw new HeraldError(error.code, `updates[${index}]: ${error.message}`, error.headers);
        throw error;
      }
    });
    const results = await Promise.allSettled(updates.map((update) => this.options.broker.publish(update)));
    const failed = results.findIndex((result) => result.status === 'rejected');
    if (failed >= 0) {
      const stored = updates.filter((_, i) => results[i]!.status === 'fulfilled').map((u) => u.id);
      const reason = (results[failed] as PromiseRejectedResult).reason as unknown;
      const code = reason instanceof HeraldError ? reason.code : 'store_unavailable';
      throw new HeraldError(code, `${stored.length} of ${updates.length} updates were stored; updates[${failed}] and later failures were not: ${reason instanceof Error ? reason.message : String(reason)}`, {}, { stored });
    }
    return updates.map((update) => update.id);
  }

  private authorizedUpdate(fields: PublicationFields, claims: Claims | undefined): Update {
    if (claims === undefined) {
      throw new HeraldError('unauthorized', 'Publishing requires a JWT (Authorization: Bearer, or the mercureAuthorization cookie)', { 'WWW-Authenticate': 'Bearer' });
    }
    const update = toUpdate(fields, this.options.hubUrl, this.options.publication);
    if (!canPublish(claims, update.topics)) {
      throw new HeraldError('unauthorized', `The token does not allow publishing to ${update.topics.map((t) => JSON.stringify(t)).join(', ')}`, {
        'WWW-Authenticate': 'Bearer error="insufficient_scope"',
      });
    }
    return update;
  }

  /** An update from Herald itself (e.g. the chat), already validated and authorized. */
  async publishTrusted(update: Update): Promise<void> {
    await this.options.broker.publish(update);
  }

  async subscribe(request: SubscribeRequest): Promise<SubscriptionStart> {
    if (this.closed) throw new HeraldError('too_many_connections', 'The hub is shutting down');
    if (request.claims === undefined && !this.options.anonymous) {
      throw new HeraldError('unauthorized', 'Subscribing requires a JWT: this hub does not allow anonymous subscribers', { 'WWW-Authenticate': 'Bearer' });
    }
    const maxCost = this.options.maxSelectorCost ?? Infinity;
    if (request.matchers.cost > maxCost) {
      throw new HeraldError(
        'selectors_too_costly',
        `These topic selectors cost ${request.matchers.cost} matching steps per topic character; this hub allows ${maxCost} (--max-selector-cost). ` +
          'Use fewer URI templates or URL patterns, or exact topics, which cost 1',
      );
    }
    const subscriber = new Subscriber(`urn:uuid:${randomUUID()}`, request.matchers, request.claims, request.sink);
    const wantsReplay = request.lastEventId !== undefined;
    if (wantsReplay) subscriber.mode = 'replaying';
    // Registered before anything is awaited or sent: nothing published from now on is missed.
    this.registry.add(subscriber);
    let replay: ReplayStart | undefined;
    let lastEventId = this.currentLastEventId();
    if (wantsReplay) {
      const filter = (update: Update): boolean => subscriber.accepts(update);
      const limits = this.replayLimits();
      try {
        replay = await locateReplay(this.options.broker, filter, request.lastEventId === 'earliest' ? null : (request.lastEventId ?? null), limits);
        // Unknown id: the client may have missed updates; it gets all that is kept and is told.
        if (!replay.found) {
          replay = await locateReplay(this.options.broker, filter, null, limits);
          lastEventId = 'earliest';
        }
      } catch (error) {
        this.registry.remove(subscriber);
        throw error;
      }
    }
    if (this.options.subscriptionEvents) {
      subscriber.records = subscriptionRecords(request.selectors, subscriber.id, request.claims?.payload);
      void this.announce(subscriber.records, true);
    }
    // Guarded: the fields would be built for every connection even with debug off.
    if (this.options.logger.isLevelEnabled('debug')) {
      this.options.logger.debug({ subscriber: subscriber.id, topics: request.selectors, lastEventId: request.lastEventId, replayCut: replay?.truncated }, 'subscriber connected');
    }
    return {
      subscriber,
      lastEventId,
      begin: () => {
        subscriber.lastWriteAt = Date.now();
        if (!subscriber.closed) this.tokenExpiry.track(subscriber);
        return replay === undefined ? Promise.resolve() : this.replay(subscriber, replay);
      },
    };
  }

  private replayLimits(): ReplayLimits {
    return { replayMax: this.options.replayMax, maxPendingBytes: this.options.maxPendingBytes };
  }

  /** Streams the replay in the background; a replay that fails or loses its place ends the stream, and the client resumes. */
  private replay(subscriber: Subscriber, start: ReplayStart): Promise<void> {
    const target = { subscriber, writePage: (updates: readonly Update[], bytes: Buffer) => this.dispatcher.writeReplayPage(subscriber, updates, bytes) };
    return streamReplay(this.options.broker, target, start, this.replayLimits()).then(
      (outcome) => {
        if (outcome === 'done') this.dispatcher.finishReplay(subscriber);
        else if (outcome === 'lost') {
          this.options.logger.info({ subscriber: subscriber.id }, 'replay lost its place in the log (trimmed under a slow read): disconnected to resume');
          this.disconnect(subscriber);
        }
      },
      (error: unknown) => {
        this.options.logger.warn({ err: error, subscriber: subscriber.id }, 'replay failed: disconnected to resume');
        this.disconnect(subscriber);
      },
    );
  }

  /** Ends a subscriber's stream (also called when its connection closes). Idempotent. */
  disconnect(subscriber: Subscriber): void {
    if (subscriber.closed) return;
    subscriber.closed = true;
    this.registry.remove(subscriber);
    this.tokenExpiry.untrack(subscriber);
    subscriber.sink.close();
    if (this.options.logger.isLevelEnabled('debug')) this.options.logger.debug({ subscriber: subscriber.id }, 'subscriber disconnected');
    if (subscriber.records.length > 0) void this.announce(subscriber.records, false);
  }

  async listSubscriptions(): Promise<SubscriptionRecord[]> {
    return this.options.broker.listSubscriptions();
  }

  /** The id of the newest update this process knows, or 'earliest'. */
  currentLastEventId(): string {
    return this.lastKnownId ?? 'earliest';
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.tokenExpiry.stop();
    this.dispatcher.flush();
    for (const subscriber of [...this.registry.all()]) this.disconnect(subscriber);
    for (const stop of this.stopListening) stop();
  }

  private async announce(records: readonly SubscriptionRecord[], active: boolean): Promise<void> {
    const { broker, logger } = this.options;
    try {
      if (active) await broker.addSubscriptions(records);
      else {
        // Only what the store still had: a record reported expired already had its leave event.
        const removed = new Set(await broker.removeSubscriptions(records.map((record) => record.id)));
        records = records.filter((record) => removed.has(record.id));
      }
    } catch (error) {
      logger.warn({ err: error }, 'could not record a subscription change');
      return;
    }
    await this.publishPresence(records, active);
  }

  /** Subscription events go under the broker's presence retention: they never evict messages. */
  private async publishPresence(records: readonly SubscriptionRecord[], active: boolean): Promise<void> {
    try {
      await Promise.all(records.map((record) => this.options.broker.publishPresence(subscriptionUpdate(record, active))));
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not publish a subscription event');
    }
  }

  private sendHeartbeats(): void {
    const idleSince = Date.now() - this.options.heartbeatMs / 2;
    for (const subscriber of this.registry.all()) {
      if (subscriber.mode !== 'replaying' && subscriber.lastWriteAt < idleSince) this.dispatcher.write(subscriber, HEARTBEAT, 0);
    }
  }
}
