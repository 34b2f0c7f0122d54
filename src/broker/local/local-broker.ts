// What the two single-process brokers (memory, SQLite) share: listeners in this
// process, an in-memory UpdateLog that history reads, presence in a Map. They differ
// only in how publish() stores and when it acknowledges.
import type { Logger } from 'pino';
import { Fanout, LocalPresence } from './local-state.js';
import type { Broker, HistoryQuery, HistoryResult, SubscriptionRecord, SubscriptionScan, SubscriptionScanResult, Unsubscribe, Update } from '../types.js';
import type { UpdateLog } from './update-log.js';

export abstract class LocalBroker implements Broker {
  abstract readonly description: string;
  protected abstract readonly log: UpdateLog;
  protected readonly updates: Fanout<Update>;
  protected readonly presence = new LocalPresence();
  protected closed = false;

  constructor(logger: Logger | undefined) {
    this.updates = new Fanout<Update>(logger);
  }

  abstract publish(update: Update): Promise<void>;
  abstract publishPresence(update: Update): Promise<void>;
  abstract isReady(): Promise<boolean>;
  abstract close(): Promise<void>;
  /** Applies age retention before a read. */
  protected abstract expire(): void;

  onUpdate(listener: (update: Update) => void): Unsubscribe {
    return this.updates.add(listener);
  }

  async history(query: HistoryQuery): Promise<HistoryResult> {
    this.expire();
    return this.log.history(query);
  }

  async lastEventId(): Promise<string | null> {
    this.expire();
    return this.log.newest()?.id ?? null;
  }

  async addSubscriptions(records: readonly SubscriptionRecord[]): Promise<void> {
    this.presence.add(records);
  }

  async removeSubscriptions(ids: readonly string[]): Promise<string[]> {
    return this.presence.remove(ids);
  }

  async listSubscriptions(): Promise<SubscriptionRecord[]> {
    return this.presence.list();
  }

  async getSubscription(id: string): Promise<SubscriptionRecord | undefined> {
    return this.presence.get(id);
  }

  async scanSubscriptions(scan: SubscriptionScan): Promise<SubscriptionScanResult> {
    return this.presence.scan(scan);
  }

  /** Never fires: presence lives in this process, which cannot lose it unnoticed. */
  onSubscriptionsExpired(_listener: (records: SubscriptionRecord[]) => void): Unsubscribe {
    return () => {};
  }

  /** Never fires, for the same reason. */
  onSubscriptionsRestored(_listener: (records: SubscriptionRecord[]) => void): Unsubscribe {
    return () => {};
  }
}
