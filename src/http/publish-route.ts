// POST /.well-known/mercure: the Mercure publication endpoint (form-encoded), and
// Herald's batch extension on the same URL when the body is JSON. `publishBody` is
// the route for both doors (this Fastify route and front-door.ts).
import type { FastifyInstance } from 'fastify';
import { HeraldError } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import type { PublicationFields } from '../hub/publication.js';
import { extractCredentials, type TokenRequest } from '../hub/auth/authenticator.js';
import { parseBatch } from './batch-fields.js';
import { all, asFieldBag, has, one } from './fields.js';

import { HUB_PATH } from '../hub/mercure-paths.js';

export { HUB_PATH };

export const TEXT_TYPE = 'text/plain; charset=utf-8';
const JSON_REPLY_TYPE = 'application/json; charset=utf-8';

export interface PublishReply {
  readonly type: string;
  readonly body: string;
}

/**
 * Publishes a parsed body (a form's fields or a JSON batch): the 200 reply, or a
 * promise of it. A form publish whose token was verified before, to a store that
 * acknowledges at once (memory), completes without a promise (hub.authenticateNow,
 * hub.publishNow); failures are thrown then, and rejected otherwise.
 */
export function publishBody(hub: Hub, request: TokenRequest, body: unknown): PublishReply | Promise<PublishReply> {
  const header = request.headers['content-type'];
  const contentType = (Array.isArray(header) ? header[0] : header)?.toLowerCase() ?? '';
  if (contentType.startsWith('application/json')) return publishBatchBody(hub, request, body);
  if (!contentType.startsWith('application/x-www-form-urlencoded')) {
    throw new HeraldError('bad_request', 'Publish with Content-Type: application/x-www-form-urlencoded (or application/json for a batch)');
  }
  const form = asFieldBag(body);
  // Mercure before 0.10 addressed updates with `target=`; ignoring it would publish
  // to everyone what the publisher meant for a few.
  if (has(form, 'target')) {
    throw new HeraldError('invalid_field', 'The legacy "target" field is not supported (it would have been ignored and the update published to everyone): send "private=on" and give subscribers a token whose mercure.subscribe claim lists the topics (docs/differences.md)');
  }
  const claims = hub.authenticateNow(extractCredentials(request), 'publisher');
  const fields: PublicationFields = {
    topics: all(form, 'topic'),
    data: one(form, 'data'),
    private: has(form, 'private'),
    id: one(form, 'id'),
    type: one(form, 'type'),
    retry: one(form, 'retry'),
  };
  if (claims instanceof Promise) return claims.then((verified) => hub.publishNow(fields, verified)).then(textReply);
  const id = hub.publishNow(fields, claims);
  return typeof id === 'string' ? textReply(id) : id.then(textReply);
}

function textReply(id: string): PublishReply {
  return { type: TEXT_TYPE, body: id };
}

async function publishBatchBody(hub: Hub, request: TokenRequest, body: unknown): Promise<PublishReply> {
  const batch = parseBatch(body);
  const ids = await hub.publishBatch(batch, await hub.authenticate(extractCredentials(request), 'publisher'));
  return { type: JSON_REPLY_TYPE, body: JSON.stringify({ ids }) };
}

export function registerPublishRoute(app: FastifyInstance, hub: Hub): void {
  app.post(HUB_PATH, async (request, reply) => {
    const answer = await publishBody(hub, request, request.body);
    return reply.type(answer.type).send(answer.body);
  });
}
