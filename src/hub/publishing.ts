// What a publisher's fields must pass before anything is stored (a token, valid fields,
// the publish claim for every topic), and a batch stored in order whose failure says
// which ids were stored, so a publisher can retry exactly the rest.
import type { Broker, Update } from '../broker/types.js';
import { HeraldError } from '../errors.js';
import { canPublish, type Claims } from './auth/authenticator.js';
import { toUpdate, type PublicationFields, type PublicationLimits } from './publication.js';

export function authorizedUpdate(fields: PublicationFields, claims: Claims | undefined, hubUrl: string, limits: PublicationLimits): Update {
  if (claims === undefined) {
    throw new HeraldError('unauthorized', 'Publishing requires a JWT (Authorization: Bearer, or the mercureAuthorization cookie)', { 'WWW-Authenticate': 'Bearer' });
  }
  const update = toUpdate(fields, hubUrl, limits);
  if (!canPublish(claims, update.topics)) {
    // Draft 08: a valid token that does not grant the operation is a 403, not a 401.
    throw new HeraldError('forbidden', `The token does not allow publishing to ${update.topics.map((t) => JSON.stringify(t)).join(', ')}`, {
      'WWW-Authenticate': 'Bearer error="insufficient_scope"',
    });
  }
  return update;
}

/** Every update of a batch checked before any is stored; an error names the one refused. */
export function authorizedBatch(list: readonly PublicationFields[], claims: Claims | undefined, hubUrl: string, limits: PublicationLimits): Update[] {
  return list.map((fields, index) => {
    try {
      return authorizedUpdate(fields, claims, hubUrl, limits);
    } catch (error) {
      if (error instanceof HeraldError) throw new HeraldError(error.code, `updates[${index}]: ${error.message}`, error.headers);
      throw error;
    }
  });
}

/** Stores the updates in order; if the store fails midway, the error carries the ids stored. */
export async function storeBatch(broker: Broker, updates: readonly Update[]): Promise<string[]> {
  const results = await Promise.allSettled(updates.map((update) => broker.publish(update)));
  const failed = results.findIndex((result) => result.status === 'rejected');
  if (failed >= 0) {
    const stored = updates.filter((_, i) => results[i]!.status === 'fulfilled').map((u) => u.id);
    const reason = (results[failed] as PromiseRejectedResult).reason as unknown;
    const code = reason instanceof HeraldError ? reason.code : 'store_unavailable';
    throw new HeraldError(code, `${stored.length} of ${updates.length} updates were stored; updates[${failed}] and later failures were not: ${reason instanceof Error ? reason.message : String(reason)}`, {}, { stored });
  }
  return updates.map((update) => update.id);
}
