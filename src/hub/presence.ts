// Mercure's active subscriptions: each subscription (one topic matcher of one
// connection) is a record in the store and a resource of the subscriptions API,
// announced by a private update when it starts and ends. --subscriptions-format says
// in which shape: the current draft's (presence-draft.ts), the 0.x one
// (presence-legacy.ts), or both, one event of each per change. The chat's online list
// is built on the records, its page on the events.
import type { SubscriptionRecord, Update } from '../broker/types.js';
import { SUBSCRIPTIONS_PATH, type SubscriptionsFormat } from './mercure-paths.js';
import { draftSubscriptionId, draftSubscriptionUpdate } from './presence-draft.js';
import { legacySubscriptionId, legacySubscriptionUpdate } from './presence-legacy.js';
import type { MatchType } from './topics/selectors.js';

export { SUBSCRIPTIONS_PATH, type SubscriptionsFormat };
export * from './presence-draft.js';
export * from './presence-legacy.js';


/** What every subscription event's topic (and nothing a publisher may send) starts with. */
export const SUBSCRIPTION_TOPIC_PREFIX = `${SUBSCRIPTIONS_PATH}/`;

/** True for the hub's own subscription events: publishers cannot use the reserved path. */
export function isSubscriptionEvent(update: Update): boolean {
  return update.private && update.topics.length === 1 && update.topics[0]!.startsWith(SUBSCRIPTION_TOPIC_PREFIX);
}

/** One selector as the subscriber gave it: the draft's `match` and `match_type`. */
export interface SubscriptionMatcher {
  readonly source: string;
  readonly matchType: MatchType;
}

/**
 * The records of one connection: one per distinct (type, matcher) pair, keyed by the
 * draft topic unless the format is 0.x only (whose key has no type, so there the same
 * matcher given as two types is one subscription, as it was).
 */
export function subscriptionRecords(
  matchers: readonly SubscriptionMatcher[],
  subscriber: string,
  payloadOf: (selector: string) => unknown,
  format: SubscriptionsFormat,
): SubscriptionRecord[] {
  const records = new Map<string, SubscriptionRecord>();
  for (const { source, matchType } of matchers) {
    const id = format === '0.x' ? legacySubscriptionId(source, subscriber) : draftSubscriptionId(matchType, source, subscriber);
    if (records.has(id)) continue;
    const payload = payloadOf(source);
    records.set(id, payload === undefined ? { id, topic: source, matchType, subscriber } : { id, topic: source, matchType, subscriber, payload });
  }
  return [...records.values()];
}

/** The updates announcing one record's start (active) or end, in the configured shapes. */
export function subscriptionUpdates(record: SubscriptionRecord, active: boolean, format: SubscriptionsFormat): Update[] {
  if (format === 'draft') return [draftSubscriptionUpdate(record, active)];
  if (format === '0.x') return [legacySubscriptionUpdate(record, active)];
  return [draftSubscriptionUpdate(record, active), legacySubscriptionUpdate(record, active)];
}
