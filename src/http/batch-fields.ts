// Herald's batch publication (an extension beside Mercure's form POST): one JSON
// request carrying many updates, for high-rate publishers. Shape:
//   {"updates": [{"topic": "t" | "topics": ["t", ...], "data": "...", "private": true,
//                 "id": "...", "type": "...", "retry": 3000}, ...]}
// Every update is checked before any is published: one bad entry refuses the batch.
import { HeraldError } from '../errors.js';
import type { PublicationFields } from '../hub/publication.js';

export const MAX_BATCH = 10_000;

function fail(index: number, message: string): never {
  throw new HeraldError('invalid_field', `updates[${index}]: ${message}`);
}

function optionalString(entry: Record<string, unknown>, name: string, index: number): string | undefined {
  const value = entry[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') fail(index, `"${name}" must be a string`);
  return value;
}

function toFields(entry: unknown, index: number): PublicationFields {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) fail(index, 'must be an object');
  const record = entry as Record<string, unknown>;
  const topics = record.topics ?? (record.topic === undefined ? [] : [record.topic]);
  if (!Array.isArray(topics) || !topics.every((t): t is string => typeof t === 'string')) fail(index, '"topic" must be a string, "topics" an array of strings');
  if (topics.length === 0) fail(index, 'a "topic" is required');
  const retry = record.retry;
  if (retry !== undefined && retry !== null && (typeof retry !== 'number' || !Number.isSafeInteger(retry) || retry < 0)) {
    fail(index, '"retry" must be an unsigned integer');
  }
  if (record.target !== undefined) fail(index, '"target" (legacy Mercure) is not supported: send "private": true and give subscribers a token whose mercure.subscribe claim lists the topics');
  const isPrivate = record.private;
  if (isPrivate !== undefined && typeof isPrivate !== 'boolean') fail(index, '"private" must be true or false');
  return {
    topics,
    data: optionalString(record, 'data', index),
    private: isPrivate === true,
    id: optionalString(record, 'id', index),
    type: optionalString(record, 'type', index),
    retry: typeof retry === 'number' ? String(retry) : undefined,
  };
}

/** The batch's entries, whichever shape it came in: the one place that knows the shapes. */
function entriesOf(body: unknown): unknown {
  return Array.isArray(body) ? body : (body as { updates?: unknown } | null)?.updates;
}

/**
 * How many updates a publish body carries (1 for a form or an unreadable body): what the
 * rate limit charges. A batch over MAX_BATCH costs 1 like any other body the route refuses
 * whole: charged in full it would exceed every burst, and its publisher would get a 429
 * that no wait can satisfy instead of the 413 that tells it to split the batch.
 */
export function batchSize(body: unknown): number {
  const list = entriesOf(body);
  return Array.isArray(list) && list.length <= MAX_BATCH ? Math.max(1, list.length) : 1;
}

export function parseBatch(body: unknown): PublicationFields[] {
  const list = entriesOf(body);
  if (!Array.isArray(list)) throw new HeraldError('bad_request', 'A batch is {"updates": [...]} (or a bare JSON array)');
  if (list.length === 0) throw new HeraldError('missing_topic', 'The batch holds no update');
  if (list.length > MAX_BATCH) throw new HeraldError('too_many_updates', `A batch holds at most ${MAX_BATCH} updates, got ${list.length}: split it into several requests`);
  return list.map(toFields);
}
