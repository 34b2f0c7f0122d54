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
      const body = draftBody(resource, await hub.listSubscriptions());
      return reply.type(DRAFT_MEDIA_TYPE).header('Link', subscriptionsLink(hub.url, lastEventId)).send(JSON.stringify(body));
    }
    const lastEventId = hub.currentLastEventId();
    const body = legacyBody(resource, await hub.listSubscriptions(), claims, lastEventId);
    return reply.type(LEGACY_MEDIA_TYPE).send(JSON.stringify(body));
  };
  app.get(SUBSCRIPTIONS_PATH, handler);
  app.get(`${SUBSCRIPTIONS_PATH}/*`, handler);
}

function canonicalPath(raw: string): string {
  return decodeUnreserved(raw).replace(/%[0-9a-f]{2}/gi, (escape) => escape.toUpperCase());
}

function draftBody(resource: Draft, records: readonly SubscriptionRecord[]): object {
  const { matchType, match, subscriber } = resource;
  if (matchType === undefined || match === undefined) return draftCollection(SUBSCRIPTIONS_PATH, records);
  const mine = records.filter((record) => record.topic === match && recordMatchType(record) === matchType);
  if (subscriber === undefined) return draftCollection(draftCollectionPath(matchType, match), mine);
  const record = mine.find((r) => r.subscriber === subscriber);
  if (record === undefined) throw new HeraldError('not_found', 'No such active subscription');
  return draftSubscriptionJson(record, true);
}

function legacyBody(resource: Legacy, records: readonly SubscriptionRecord[], claims: Claims, lastEventId: string): object {
  const visible = records.filter((record) => canReceive(claims, [legacySubscriptionId(record.topic, record.subscriber)]));
  const { topic, subscriber } = resource;
  if (topic === undefined) return legacyCollection(SUBSCRIPTIONS_PATH, visible, lastEventId);
  if (subscriber === undefined) return legacyCollection(`${SUBSCRIPTIONS_PATH}/${encodeURIComponent(topic)}`, visible.filter((r) => r.topic === topic), lastEventId);
  const id = legacySubscriptionId(topic, subscriber);
  const record = visible.find((r) => r.topic === topic && r.subscriber === subscriber);
  if (record === undefined) throw new HeraldError('not_found', `No active subscription ${id} visible to this token`);
  return legacyResource(record, lastEventId);
}
