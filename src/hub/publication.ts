// Turns a publisher's fields (Mercure form POST or Herald's batch extension) into an
// Update, refusing anything that could corrupt the stream or address the hub's own
// reserved topics. Transport-agnostic: the HTTP layer only collects the fields.
import type { Update } from '../broker/types.js';
import { HeraldError } from '../errors.js';
import { isSafeFieldValue } from '../sse/encode.js';
import { isReservedTopic, validateTopic } from './topics/selectors.js';
import { newUuidUrn } from './event-id.js';

export interface PublicationFields {
  readonly topics: readonly string[];
  readonly data?: string;
  /** Mercure: the presence of the `private` field makes the update private, whatever its value. */
  readonly private?: boolean;
  readonly id?: string;
  readonly type?: string;
  readonly retry?: string;
}

export interface PublicationLimits {
  readonly maxTopics: number;
  readonly maxDataBytes: number;
}

export function newEventId(): string {
  return newUuidUrn();
}

/** Field length limits; past them draft 08 asks for a 413, as for the body and `data`. */
const MAX_ID_LENGTH = 1024;
const MAX_TYPE_LENGTH = 256;

// Draft 08: an id or a type must not hold control characters (C0, DEL, C1) or Unicode format characters.
const UNSAFE_FIELD = /[\u0000-\u001f\u007f-\u009f]|\p{Cf}/u;

export function toUpdate(fields: PublicationFields, hubUrl: string, limits: PublicationLimits): Update {
  const { topics } = fields;
  if (topics.length === 0) throw new HeraldError('missing_topic');
  if (topics.length > limits.maxTopics) {
    throw new HeraldError('too_many_topics', `Too many topics: ${topics.length} (at most ${limits.maxTopics})`);
  }
  for (const topic of topics) {
    validateTopic(topic);
    // `*` is the wildcard matcher: a topic spelled so could not be selected alone (draft 08).
    if (topic === '*') throw new HeraldError('invalid_field', 'The topic "*" is reserved for the wildcard matcher');
    if (isReservedTopic(topic, hubUrl)) {
      throw new HeraldError('reserved_topic', `Topic ${JSON.stringify(topic)} is under /.well-known/mercure, which is reserved for the hub`);
    }
  }
  const data = fields.data ?? '';
  if (Buffer.byteLength(data, 'utf8') > limits.maxDataBytes) {
    throw new HeraldError('payload_too_large', `"data" is larger than ${limits.maxDataBytes} bytes`);
  }
  if (fields.id !== undefined) {
    if (fields.id === '' || !isSafeFieldValue(fields.id)) throw new HeraldError('invalid_field', '"id" must be non-empty and must not contain CR, LF or NUL');
    if (fields.id.startsWith('#')) throw new HeraldError('invalid_field', '"id" must not start with "#"');
    if (fields.id === 'earliest') throw new HeraldError('invalid_field', '"id" must not be "earliest", which asks for the whole history on resume');
    if (UNSAFE_FIELD.test(fields.id)) throw new HeraldError('invalid_field', '"id" must not contain control or Unicode format characters');
    if (fields.id.length > MAX_ID_LENGTH) throw new HeraldError('field_too_long', `"id" is longer than ${MAX_ID_LENGTH} characters`);
  }
  if (fields.type !== undefined && !isSafeFieldValue(fields.type)) throw new HeraldError('invalid_field', '"type" must not contain CR, LF or NUL');
  if (fields.type !== undefined && fields.type.length > MAX_TYPE_LENGTH) throw new HeraldError('field_too_long', `"type" is longer than ${MAX_TYPE_LENGTH} characters`);
  if (fields.type !== undefined && UNSAFE_FIELD.test(fields.type)) throw new HeraldError('invalid_field', '"type" must not contain control or Unicode format characters');
  // The hub's own subscription events carry the type `mercure`: a publisher must not forge one.
  if (fields.type === 'mercure') throw new HeraldError('invalid_field', '"type" must not be "mercure", which is reserved for the hub');
  let retry: number | undefined;
  if (fields.retry !== undefined) {
    if (!/^\d{1,10}$/.test(fields.retry)) throw new HeraldError('invalid_field', '"retry" must be an unsigned integer (milliseconds)');
    retry = Number(fields.retry);
  }
  const update: { -readonly [K in keyof Update]: Update[K] } = {
    id: fields.id ?? newEventId(),
    topics: [...topics],
    data,
    private: fields.private === true,
  };
  if (fields.type !== undefined && fields.type !== '') update.type = fields.type;
  if (retry !== undefined) update.retry = retry;
  return update;
}
