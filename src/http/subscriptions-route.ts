// GET /.well-known/mercure/subscriptions[/...]: Mercure's subscriptions API, in the
// shape --subscriptions-format names (subscriptions-paths.ts tells which resource a
// path is). A token is required. Draft 08: the token's `subscribe` matchers must cover
// the requested path itself (403 otherwise), the reply is application/json and the
// cursor rides on the Link. 0.x: only the subscriptions the matchers cover are listed,
// as JSON-LD with `lastEventID` in the body.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SubscriptionRecord } from '../broker/types.js';
import { HeraldError } from '../errors.js';
import { canReceive, extractCredentials, type Claims } from '../hub/auth/authenticator.js';
import type { Hub } from '../hub/hub.js';
import { decodeUnreserved } from '../hub/mercure-paths.js';
import {
  draftCollection,
  draftCollectionPath,
  draftSubscriptionJson,
  DRAFT_MEDIA_TYPE,
  legacyCollection,
  legacyResource,
  legacySubscriptionId,
  LEGACY_MEDIA_TYPE,
  recordMatchType,
  SUBSCRIPTIONS_PATH,
  subscriptionsLink,
} from '../hub/presence.js';
import { resolveSubscriptionsPath, type SubscriptionsResource } from './subscriptions-paths.js';

type Draft = Extract<SubscriptionsResource, { shape: 'draft' }>;
/** Set on a collection cut at --subscriptions-scan (the draft lets a hub truncate; the document stays valid). */
export const TRUNCATED_HEADER = 'Herald-Subscriptions-Truncated';
type Legacy = Extract<SubscriptionsResource, { shape: '0.x' }>;

export function registerSubscriptionsRoute(app: FastifyInstance, hub: Hub): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const url = request.raw.url ?? '';
    const mark = url.indexOf('?');
    // The draft authorizes the path as requested (percent-encoded, no query), the form event
    // topics have; in its canonical spelling (unreserved characters decoded, hex digits in
    // upper case, as encodeURIComponent writes them), so that every spelling the router
    // matched is the same resource and the same topic.
    const path = canonicalPath(mark < 0 ? url : url.slice(0, mark));
    const accept = request.headers.accept;
    const resource = resolveSubscriptionsPath(path, hub.subscriptionsFormat, typeof accept === 'string' ? accept : undefined);
    if (resource === undefined) throw new HeraldError('not_found', `No subscriptions API resource at ${JSON.stringify(path.slice(0, 200))}`);
    const claims = await hub.authenticate(extractCredentials(request), 'subscriber');
    if (claims === undefined) {
      throw new HeraldError('unauthorized', 'The subscriptions API requires a JWT whose subscribe claim covers the subscriptions', { 'WWW-Authenticate': 'Bearer' });
    }
    if (resource.shape === 'draft') {
      if (!canReceive(claims, [path])) {
        throw new HeraldError('forbidden', `No subscribe matcher of this token covers ${JSON.stringify(path.slice(0, 200))}`, { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' });
      }
      const lastEventId = hub.currentLastEventId();
      const answer = await draftAnswer(hub, resource, path);
      return send(reply.type(DRAFT_MEDIA_TYPE).header('Link', subscriptionsLink(hub.url, lastEventId)), answer);
    }
    const lastEventId = hub.currentLastEventId();
    return send(reply.type(LEGACY_MEDIA_TYPE), await legacyAnswer(hub, resource, claims, lastEventId));
  };
  app.get(SUBSCRIPTIONS_PATH, handler);
  app.get(`${SUBSCRIPTIONS_PATH}/*`, handler);
}

function canonicalPath(raw: string): string {
  return decodeUnreserved(raw).replace(/%[0-9a-f]{2}/gi, (escape) => escape.toUpperCase());
}

/** A reply body, and whether the collection was cut at --subscriptions-scan. */
interface Answer {
  readonly body: object;
  readonly truncated: boolean;
}

function send(reply: FastifyReply, answer: Answer): FastifyReply {
  if (answer.truncated) reply.header(TRUNCATED_HEADER, '1');
  return reply.send(JSON.stringify(answer.body));
}

/**
 * One record by its id (the store's key is the resource's canonical path), else by a
 * bounded scan for records another process wrote in another shape.
 */
async function findRecord(hub: Hub, id: string, wanted: (record: SubscriptionRecord) => boolean): Promise<SubscriptionRecord | undefined> {
  const direct = await hub.subscription(id);
  if (direct !== undefined && wanted(direct)) return direct;
  return (await hub.scanSubscriptions(wanted)).records[0];
}

async function draftAnswer(hub: Hub, resource: Draft, path: string): Promise<Answer> {
  const { matchType, match, subscriber } = resource;
  if (matchType === undefined || match === undefined) {
    const { records, complete } = await hub.scanSubscriptions(() => true);
    return { body: draftCollection(SUBSCRIPTIONS_PATH, records), truncated: !complete };
  }
  const mine = (record: SubscriptionRecord): boolean => record.topic === match && recordMatchType(record) === matchType;
  if (subscriber === undefined) {
    const { records, complete } = await hub.scanSubscriptions(mine);
    return { body: draftCollection(draftCollectionPath(matchType, match), records), truncated: !complete };
  }
  const record = await findRecord(hub, path, (r) => mine(r) && r.subscriber === subscriber);
  if (record === undefined) throw new HeraldError('not_found', 'No such active subscription');
  return { body: draftSubscriptionJson(record, true), truncated: false };
}

async function legacyAnswer(hub: Hub, resource: Legacy, claims: Claims, lastEventId: string): Promise<Answer> {
  const visible = (record: SubscriptionRecord): boolean => canReceive(claims, [legacySubscriptionId(record.topic, record.subscriber)]);
  const { topic, subscriber } = resource;
  if (topic === undefined || subscriber === undefined) {
    const { records, complete } = await hub.scanSubscriptions((r) => (topic === undefined || r.topic === topic) && visible(r));
    const id = topic === undefined ? SUBSCRIPTIONS_PATH : `${SUBSCRIPTIONS_PATH}/${encodeURIComponent(topic)}`;
    return { body: legacyCollection(id, records, lastEventId), truncated: !complete };
  }
  const id = legacySubscriptionId(topic, subscriber);
  const record = await findRecord(hub, id, (r) => r.topic === topic && r.subscriber === subscriber && visible(r));
  if (record === undefined) throw new HeraldError('not_found', `No active subscription ${id} visible to this token`);
  return { body: legacyResource(record, lastEventId), truncated: false };
}
