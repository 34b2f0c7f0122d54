// A Broker that counts what passes through it and delegates everything: updates
// stored, store errors by operation, and the acceptance time of each publish (for
// the publish-to-write latency). Wrapping keeps the brokers and the hub free of
// metrics code; the cost is one Map entry per publish in flight. The stored count is
// a plain number read at scrape time (prom-client's inc() allocates on every call).
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { isHeraldError } from '../errors.js';
import type { Broker, HistoryQuery, HistoryResult, SubscriptionRecord, SubscriptionScan, SubscriptionScanResult, Unsubscribe, Update } from '../broker/types.js';
import type { PublishLatency } from './publish-latency.js';

export type StoreOperation = 'publish' | 'history' | 'presence' | 'ready';

/** A store that is down fails every request: one warning per interval, with a count. */
const WARN_EVERY_MS = 10_000;

export class InstrumentedBroker implements Broker {
  readonly description: string;
  readonly inner: Broker;
  private readonly stored: Counter;
  private readonly errors: Counter<'operation'>;
  private readonly latency: PublishLatency;
  private readonly logger: Logger;
  private readonly debug: boolean;
  private lastWarnAt = -Infinity;
  private unlogged = 0;
  /** Updates stored since the last scrape (added to the counter by its collect()). */
  private storedSinceScrape = 0;
  /** Present when the inner store has it (Broker.publishNow): a publish with no promise. */
  readonly publishNow: ((update: Update, freshId?: boolean) => void) | undefined;
  /** Present when the inner store has it (Broker.caughtUp). */
  readonly caughtUp: (() => Promise<void>) | undefined;

  constructor(inner: Broker, registry: Registry, latency: PublishLatency, logger: Logger) {
    this.inner = inner;
    this.description = inner.description;
    this.latency = latency;
    this.logger = logger;
    this.debug = logger.isLevelEnabled('debug');
    this.stored = new Counter({
      name: 'herald_updates_stored_total',
      help: 'Updates the store accepted (HTTP publishes, batches, chat messages and presence events)',
      registers: [registry],
      collect: () => {
        if (this.storedSinceScrape > 0) this.stored.inc(this.storedSinceScrape);
        this.storedSinceScrape = 0;
      },
    });
    this.errors = new Counter({
      name: 'herald_store_errors_total',
      help: 'Store operations that failed, by operation',
      labelNames: ['operation'],
      registers: [registry],
    });
    for (const operation of ['publish', 'history', 'presence', 'ready'] as const) this.errors.labels(operation).inc(0);
    const innerNow = inner.publishNow;
    this.publishNow = innerNow === undefined ? undefined : (update, freshId) => this.publishNowThrough(innerNow, update, freshId);
    const innerCaughtUp = inner.caughtUp?.bind(inner);
    this.caughtUp = innerCaughtUp === undefined ? undefined : () => this.watch('history', innerCaughtUp());
  }

  publish(update: Update): Promise<void> {
    this.latency.accept(update.id);
    return this.settle(update, this.inner.publish(update));
  }

  publishPresence(update: Update): Promise<void> {
    this.latency.accept(update.id);
    return this.settle(update, this.inner.publishPresence(update));
  }

  private async settle(update: Update, pending: Promise<void>): Promise<void> {
    try {
      await pending;
    } catch (error) {
      this.refused(update, error);
      throw error;
    }
    this.storedOne(update);
  }

  /** publish(), for an inner store that acknowledges synchronously. */
  private publishNowThrough(inner: (update: Update, freshId?: boolean) => void, update: Update, freshId: boolean | undefined): void {
    this.latency.accept(update.id);
    try {
      inner(update, freshId);
    } catch (error) {
      this.refused(update, error);
      throw error;
    }
    this.storedOne(update);
  }

  private refused(update: Update, error: unknown): void {
    this.latency.abandoned(update.id);
    this.failed('publish', error);
  }

  private storedOne(update: Update): void {
    this.storedSinceScrape++;
    if (this.debug) this.logger.debug({ id: update.id, topics: update.topics, private: update.private }, 'update stored');
  }

  onUpdate(listener: (update: Update) => void): Unsubscribe {
    return this.inner.onUpdate(listener);
  }

  follow(topics: readonly string[] | 'all'): Promise<Unsubscribe> {
    return this.inner.follow?.(topics) ?? Promise.resolve(() => {});
  }

  history(query: HistoryQuery): Promise<HistoryResult> {
    return this.watch('history', this.inner.history(query));
  }

  lastEventId(): Promise<string | null> {
    return this.watch('history', this.inner.lastEventId());
  }

  addSubscriptions(records: readonly SubscriptionRecord[]): Promise<void> {
    return this.watch('presence', this.inner.addSubscriptions(records));
  }

  removeSubscriptions(ids: readonly string[]): Promise<string[]> {
    return this.watch('presence', this.inner.removeSubscriptions(ids));
  }

  listSubscriptions(): Promise<SubscriptionRecord[]> {
    return this.watch('presence', this.inner.listSubscriptions());
  }

  getSubscription(id: string): Promise<SubscriptionRecord | undefined> {
    return this.watch('presence', this.inner.getSubscription(id));
  }

  scanSubscriptions(scan: SubscriptionScan): Promise<SubscriptionScanResult> {
    return this.watch('presence', this.inner.scanSubscriptions(scan));
  }

  onSubscriptionsExpired(listener: (records: SubscriptionRecord[]) => void): Unsubscribe {
    return this.inner.onSubscriptionsExpired(listener);
  }

  onSubscriptionsRestored(listener: (records: SubscriptionRecord[]) => void): Unsubscribe {
    return this.inner.onSubscriptionsRestored(listener);
  }

  async isReady(): Promise<boolean> {
    let ready: boolean;
    try {
      ready = await this.inner.isReady();
    } catch (error) {
      this.failed('ready', error);
      return false;
    }
    if (!ready) this.errors.labels('ready').inc();
    return ready;
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async watch<T>(operation: StoreOperation, pending: Promise<T>): Promise<T> {
    try {
      return await pending;
    } catch (error) {
      this.failed(operation, error);
      throw error;
    }
  }

  private failed(operation: StoreOperation, error: unknown): void {
    // A refusal (a duplicate id) is the caller's mistake, not the store's.
    if (isHeraldError(error) && error.status < 500) return;
    this.errors.labels(operation).inc();
    const now = Date.now();
    if (now - this.lastWarnAt < WARN_EVERY_MS) {
      this.unlogged++;
      return;
    }
    this.logger.warn({ err: error, operation, store: this.description, alsoFailedSinceLastWarning: this.unlogged }, 'store operation failed');
    this.lastWarnAt = now;
    this.unlogged = 0;
  }
}
