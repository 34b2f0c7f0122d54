// The current draft's shape of subscription events and of the subscriptions API
// (draft 08, Active Subscriptions): the topic
// /.well-known/mercure/subscriptions/{match_type}/{match}/{subscriber}, a plain JSON
// document of type `subscription`, the reserved SSE event type `mercure`, and
// collections of type `subscriptions` whose reconciliation cursor rides on the Link header.
import type { SubscriptionRecord, Update } from '../broker/types.js';
import { headerSafe, HUB_PATH, SUBSCRIPTIONS_PATH } from './mercure-paths.js';
import { flatString, joinPath } from './flat-string.js';
import { newEventId } from './publication.js';
import { MATCH_TYPES, matchTypeOf, type MatchType } from './topics/selectors.js';

/** The SSE event type of every subscription event; publishers cannot send it (hub/publication.ts). */
export const SUBSCRIPTION_EVENT_TYPE = 'mercure';
/** The media type of every draft subscriptions API reply. */
export const DRAFT_MEDIA_TYPE = 'application/json';

/** Whether a path segment names a matcher type as the draft spells it (case-sensitive). */
export function isMatchType(segment: string): segment is MatchType {
  return (MATCH_TYPES as readonly string[]).includes(segment);
}

/** A record's matcher type; records written before the field existed follow the 0.x rule. */
export function recordMatchType(record: SubscriptionRecord): MatchType {
  return record.matchType !== undefined && isMatchType(record.matchType) ? record.matchType : matchTypeOf(record.topic, 'auto');
}

/** `/.well-known/mercure/subscriptions/{match_type}/{match}`: each variable percent-encoded exactly once. */
export function draftCollectionPath(matchType: string, match: string): string {
  return `${SUBSCRIPTIONS_PATH}/${encodeURIComponent(matchType)}/${encodeURIComponent(match)}`;
}

/** A record's key and its events' topic: flat (see flat-string.ts), it lives as long as the stream. */
export function draftSubscriptionId(matchType: string, match: string, subscriber: string): string {
  return joinPath([SUBSCRIPTIONS_PATH, encodeURIComponent(matchType), encodeURIComponent(match), encodeURIComponent(subscriber)]);
}

export interface DraftSubscriptionJson {
  id: string;
  type: 'subscription';
  match_type: MatchType;
  match: string;
  subscriber: string;
  active: boolean;
  payload?: unknown;
}

export function draftSubscriptionJson(record: SubscriptionRecord, active: boolean): DraftSubscriptionJson {
  const matchType = recordMatchType(record);
  const id = draftSubscriptionId(matchType, record.topic, record.subscriber);
  const json: DraftSubscriptionJson = {
    // The record's own string when it is the same id: its event then shares it.
    id: id === record.id ? record.id : id,
    type: 'subscription',
    match_type: matchType,
    match: record.topic,
    subscriber: record.subscriber,
    active,
  };
  if (record.payload !== undefined) json.payload = record.payload;
  return json;
}

/** The private update announcing that a subscription started (active) or ended: SSE type `mercure`. */
export function draftSubscriptionUpdate(record: SubscriptionRecord, active: boolean): Update {
  const json = draftSubscriptionJson(record, active);
  return { id: newEventId(), topics: [json.id], data: flatString(JSON.stringify(json)), private: true, type: SUBSCRIPTION_EVENT_TYPE };
}

/** Body of GET /.well-known/mercure/subscriptions[/{match_type}/{match}]: no cursor in it, that is the Link's. */
export function draftCollection(path: string, records: readonly SubscriptionRecord[]): object {
  return { id: path, type: 'subscriptions', subscriptions: records.map((record) => draftSubscriptionJson(record, true)) };
}

/**
 * The Link every draft subscriptions API reply carries: the hub, the reconciliation
 * cursor (`last-event-id`) and what its subscription events are (`type`, `content-type`).
 */
export function subscriptionsLink(hubUrl: string, lastEventId: string): string {
  return `<${hubUrl}${HUB_PATH}>; rel="mercure"; last-event-id=${quotedString(headerSafe(lastEventId))}; type="${SUBSCRIPTION_EVENT_TYPE}"; content-type="${DRAFT_MEDIA_TYPE}"`;
}

/** An RFC 9110 quoted-string: an id is free text (no control characters, but `"` and `\` may occur). */
function quotedString(value: string): string {
  return `"${value.replace(/["\\]/g, (char) => `\\${char}`)}"`;
}
