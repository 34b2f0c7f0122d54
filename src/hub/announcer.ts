// Presence in the store: a connection's subscriptions are recorded when it starts and
// removed when it ends, each change announced by a subscription event. The events go
// under the broker's presence retention, so they never evict messages. A failing store
// is logged, never thrown: presence must not cost a subscriber its stream.
import type { Logger } from 'pino';
import type { Broker, SubscriptionRecord } from '../broker/types.js';
import { subscriptionUpdates, type SubscriptionsFormat } from './presence.js';

export class PresenceAnnouncer {
  private readonly broker: Broker;
  private readonly logger: Logger;
  private readonly format: SubscriptionsFormat;

  constructor(broker: Broker, logger: Logger, format: SubscriptionsFormat) {
    this.broker = broker;
    this.logger = logger;
    this.format = format;
  }

  /** Records (active) or removes the subscriptions, then publishes their events. */
  async announce(records: readonly SubscriptionRecord[], active: boolean): Promise<void> {
    try {
      if (active) await this.broker.addSubscriptions(records);
      else {
        // Only what the store still had: a record reported expired already had its leave event.
        const removed = new Set(await this.broker.removeSubscriptions(records.map((record) => record.id)));
        records = records.filter((record) => removed.has(record.id));
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'could not record a subscription change');
      return;
    }
    await this.publish(records, active);
  }

  /** Only the events: for records the store already dropped (expired) or brought back (restored). */
  async publish(records: readonly SubscriptionRecord[], active: boolean): Promise<void> {
    try {
      // With --subscriptions-format both, two events per record: the draft's, then the 0.x one.
      await Promise.all(records.flatMap((record) => subscriptionUpdates(record, active, this.format)).map((update) => this.broker.publishPresence(update)));
    } catch (error) {
      this.logger.warn({ err: error }, 'could not publish a subscription event');
    }
  }
}
