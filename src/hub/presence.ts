// Mercure's subscriptions API: each subscription (one topic selector of one
// connection) is a resource at /.well-known/mercure/subscriptions/{topic}/{subscriber},
// announced by a private update on that same IRI when it starts and ends.
// The chat's online list is built on these.
import type { SubscriptionRecord, Update } from '../broker/types.js';
import { newEventId } from './publication.js';

import { SUBSCRIPTIONS_PATH } from './mercure-paths.js';

export { SUBSCRIPTIONS_PATH };
/** What every subscription event's topic (and nothing a publisher may send) starts with. */
export const SUBSCRIPTION_TOPIC_PREFIX = `${SUBSCRIPTIONS_PATH}/`;

/** True for the hub's own subscription events: publishers cannot use the reserved path. */
export function isSubscriptionEvent(update: Update): boolean {
  return update.private && update.topics.length === 1 && update.topics[0]!.startsWith(SUBSCRIPTION_TOPIC_PREFIX);
}
const CONTEXT = 'https://mercure.rocks/';

export function subscriptionId(topic: string, subscriber: string): string {
  return `${SUBSCRIPTIONS_PATH}/${encodeURIComponent(topic)}/${encodeURIComponent(subscriber)}`;
}

export function subscriptionRecords(selectors: readonly string[], subscriber: string, payload: unknown): SubscriptionRecord[] {
  return [...new Set(selectors)].map((topic) => {
    const record: { -readonly [K in keyof SubscriptionRecord]: SubscriptionRecord[K] } = { id: subscriptionId(topic, subscriber), topic, subscriber };
    if (payload !== undefined) record.payload = payload;
    return record;
  });
}

export interface SubscriptionJson {
  '@context'?: string;
  id: string;
  type: 'Subscription';
  topic: string;
  subscriber: string;
  active: boolean;
  payload?: unknown;
  lastEventID?: string;
}

export function subscriptionJson(record: SubscriptionRecord, active: boolean): SubscriptionJson {
  const json: SubscriptionJson = { id: record.id, type: 'Subscription', topic: record.topic, subscriber: record.subscriber, active };
  if (record.payload !== undefined) json.payload = record.payload;
  return json;
}

/** The private update announcing that a subscription started (active) or ended. */
export function subscriptionUpdate(record: SubscriptionRecord, active: boolean): Update {
  return {
    id: newEventId(),
    topics: [record.id],
    data: JSON.stringify({ '@context': CONTEXT, ...subscriptionJson(record, active) }),
    private: true,
  };
}

/** Body of GET /.well-known/mercure/subscriptions[/{topic}]. */
export function subscriptionsCollection(path: string, records: readonly SubscriptionRecord[], lastEventId: string): object {
  return {
    '@context': CONTEXT,
    id: path,
    type: 'Subscriptions',
    lastEventID: lastEventId,
    subscriptions: records.map((record) => subscriptionJson(record, true)),
  };
}

/** Body of GET /.well-known/mercure/subscriptions/{topic}/{subscriber}. */
export function subscriptionResource(record: SubscriptionRecord, lastEventId: string): object {
  return { '@context': CONTEXT, ...subscriptionJson(record, true), lastEventID: lastEventId };
}
