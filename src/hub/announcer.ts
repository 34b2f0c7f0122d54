// Presence in the store: a connection's subscriptions are recorded when it starts and
// removed when it ends, each change announced by a subscription event. The events go
// under the broker's presence retention, so they never evict messages. A failing store
// is logged, never thrown: presence must not cost a subscriber its stream.
import type { Logger } from 'pino';
import type { Broker, SubscriptionRecord } from '../broker/types.js';
import { subscriptionUpdate } from './presence.js';

export class PresenceAnnouncer {
  private readonly broker: Broker;
  private readonly logger: Logger;

  constructor(broker: Broker, logger: Logger) {
    this.broker = broker;
    this.logger = logger;
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
      await Promise.all(records.map((record) => this.broker.publishPresence(subscriptionUpdate(record, active))));
    } catch (error) {
      this.logger.warn({ err: error }, 'could not publish a subscription event');
    }
  }
}
