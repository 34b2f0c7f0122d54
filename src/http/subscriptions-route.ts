// GET /.well-known/mercure/subscriptions[/{topic}[/{subscriber}]]: Mercure's
// subscriptions API (JSON-LD). A token is required, and only the subscriptions its
// `subscribe` selectors cover are listed.
import type { FastifyInstance } from 'fastify';
import { HeraldError } from '../errors.js';
import { canReceive, extractCredentials, type Credentials } from '../hub/auth/authenticator.js';
import type { Hub } from '../hub/hub.js';
import { SUBSCRIPTIONS_PATH, subscriptionId, subscriptionResource, subscriptionsCollection } from '../hub/presence.js';

export function registerSubscriptionsRoute(app: FastifyInstance, hub: Hub): void {
  const handler = async (topic: string | undefined, subscriber: string | undefined, credentials: Credentials | undefined): Promise<object> => {
    const claims = await hub.authenticate(credentials, 'subscriber');
    if (claims === undefined) {
      throw new HeraldError('unauthorized', 'The subscriptions API requires a JWT whose subscribe claim covers the subscriptions', { 'WWW-Authenticate': 'Bearer' });
    }
    const lastEventId = hub.currentLastEventId();
    const visible = (await hub.listSubscriptions()).filter((record) => canReceive(claims, [record.id]));
    if (topic !== undefined && subscriber !== undefined) {
      const id = subscriptionId(topic, subscriber);
      const record = visible.find((r) => r.id === id);
      if (record === undefined) throw new HeraldError('not_found', `No active subscription ${id} visible to this token`);
      return subscriptionResource(record, lastEventId);
    }
    const path = topic === undefined ? SUBSCRIPTIONS_PATH : `${SUBSCRIPTIONS_PATH}/${encodeURIComponent(topic)}`;
    return subscriptionsCollection(path, topic === undefined ? visible : visible.filter((r) => r.topic === topic), lastEventId);
  };
  const send = (body: object) => JSON.stringify(body);
  app.get(SUBSCRIPTIONS_PATH, async (request, reply) =>
    reply.type('application/ld+json').send(send(await handler(undefined, undefined, extractCredentials(request)))),
  );
  app.get<{ Params: { topic: string } }>(`${SUBSCRIPTIONS_PATH}/:topic`, async (request, reply) =>
    reply.type('application/ld+json').send(send(await handler(request.params.topic, undefined, extractCredentials(request)))),
  );
  app.get<{ Params: { topic: string; subscriber: string } }>(`${SUBSCRIPTIONS_PATH}/:topic/:subscriber`, async (request, reply) =>
    reply.type('application/ld+json').send(send(await handler(request.params.topic, request.params.subscriber, extractCredentials(request)))),
  );
}
