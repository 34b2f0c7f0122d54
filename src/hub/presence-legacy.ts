// The pre-standardization (0.x) shape of subscription events and of the subscriptions
// API, kept for 0.x watchers (--subscriptions-format 0.x or both): the topic
// /.well-known/mercure/subscriptions/{topic}/{subscriber}, a JSON-LD document of type
// `Subscription`, the default `message` event type, and collections that carry
// `lastEventID` in their body.
import type { SubscriptionRecord, Update } from '../broker/types.js';
import { SUBSCRIPTIONS_PATH } from './mercure-paths.js';
import { flatString, joinPath } from './flat-string.js';
import { newEventId } from './publication.js';

const CONTEXT = 'https://mercure.rocks/';

/** The media type of every 0.x subscriptions API reply. */
export const LEGACY_MEDIA_TYPE = 'application/ld+json';

export function legacySubscriptionId(topic: string, subscriber: string): string {
  return joinPath([SUBSCRIPTIONS_PATH, encodeURIComponent(topic), encodeURIComponent(subscriber)]);
}

export interface LegacySubscriptionJson {
  '@context'?: string;
  id: string;
  type: 'Subscription';
  topic: string;
  subscriber: string;
  active: boolean;
  payload?: unknown;
  lastEventID?: string;
}

/** The id is recomputed, not the record's key: under the draft format the key is the draft topic. */
export function legacySubscriptionJson(record: SubscriptionRecord, active: boolean): LegacySubscriptionJson {
  const id = legacySubscriptionId(record.topic, record.subscriber);
  const json: LegacySubscriptionJson = { id: id === record.id ? record.id : id, type: 'Subscription', topic: record.topic, subscriber: record.subscriber, active };
  if (record.payload !== undefined) json.payload = record.payload;
  return json;
}

/** The private update announcing that a subscription started (active) or ended: SSE type `message`. */
export function legacySubscriptionUpdate(record: SubscriptionRecord, active: boolean): Update {
  const json = legacySubscriptionJson(record, active);
  return { id: newEventId(), topics: [json.id], data: flatString(JSON.stringify({ '@context': CONTEXT, ...json })), private: true };
}

/** Body of GET /.well-known/mercure/subscriptions[/{topic}] (0.x). */
export function legacyCollection(path: string, records: readonly SubscriptionRecord[], lastEventId: string): object {
  return {
    '@context': CONTEXT,
    id: path,
    type: 'Subscriptions',
    lastEventID: lastEventId,
    subscriptions: records.map((record) => legacySubscriptionJson(record, true)),
  };
}

/** Body of GET /.well-known/mercure/subscriptions/{topic}/{subscriber} (0.x). */
export function legacyResource(record: SubscriptionRecord, lastEventId: string): object {
  return { '@context': CONTEXT, ...legacySubscriptionJson(record, true), lastEventID: lastEventId };
}
