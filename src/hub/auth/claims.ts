// What a verified JWT grants: Mercure 0.x `mercure: { publish, subscribe, payload }`,
// the older 1.0 `authorization_details` (RFC 9396, type `mercure`) and the current
// draft's (type MERCURE_DETAIL_TYPE, `match_type`) all become the same Claims. A malformed grant rejects the whole token: partial acceptance would
// silently change what the token allows.
import { HeraldError } from '../../errors.js';
import { compileMatcher, type MatcherKind, type TopicMatcher } from '../topics/selectors.js';
import { MatcherSet } from '../topics/matcher-set.js';

export interface Claims {
  /** Null: the token grants no publishing at all. */
  readonly publish: MatcherSet | null;
  /** Null: the token grants no private updates at all. */
  readonly subscribe: MatcherSet | null;
  /** 0.x `mercure.payload`, else the payload of the first 1.0 `subscribe` detail carrying one. */
  readonly payload?: unknown;
  /** 1.0 per-detail payloads, in token order, for payloadFor(). */
  readonly payloads?: ReadonlyArray<{ readonly matchers: MatcherSet; readonly payload: unknown }>;
  readonly subject?: string;
  /** `exp`, in milliseconds since the epoch. */
  readonly expiresAt?: number;
}

/** Bounds on what one token may carry, so a token cannot make the hub compile without end. */
const MAX_DETAILS = 100;
const MAX_SELECTORS = 200;

/** The current draft's authorization detail type, compared byte by byte. */
export const MERCURE_DETAIL_TYPE = 'https://mercure.rocks/authorization-detail';

/** The draft's `match_type` names, and Herald's URI templates (0.x selectors) as an extra type. */
const MATCH_TYPES: Readonly<Record<string, MatcherKind>> = { exact: 'exact', urlpattern: 'urlpattern', uritemplate: 'uritemplate' };

const INVALID_TOKEN = { 'WWW-Authenticate': 'Bearer error="invalid_token"' };

export function invalidToken(reason: string): HeraldError {
  return new HeraldError('unauthorized', reason, INVALID_TOKEN);
}

/** Throws HeraldError('unauthorized') when a grant is malformed. */
export function claimsFromPayload(payload: Record<string, unknown>, hubUrl: string): Claims {
  const publish: TopicMatcher[] = [];
  const subscribe: TopicMatcher[] = [];
  let grantsPublish = false;
  let grantsSubscribe = false;
  let legacyPayload: unknown;
  const payloads: Array<{ matchers: MatcherSet; payload: unknown }> = [];

  const legacy = payload.mercure;
  if (legacy !== undefined) {
    if (!isObject(legacy)) throw invalidToken('invalid token: the "mercure" claim must be an object');
    if (legacy.publish !== undefined) {
      grantsPublish = true;
      publish.push(...selectorList(legacy.publish, 'mercure.publish', hubUrl));
    }
    if (legacy.subscribe !== undefined) {
      grantsSubscribe = true;
      subscribe.push(...selectorList(legacy.subscribe, 'mercure.subscribe', hubUrl));
    }
    legacyPayload = legacy.payload;
  }

  const details = payload.authorization_details;
  if (details !== undefined) {
    if (!Array.isArray(details)) throw invalidToken('invalid token: "authorization_details" must be an array');
    if (details.length > MAX_DETAILS) throw invalidToken(`invalid token: more than ${MAX_DETAILS} authorization details`);
    details.forEach((detail: unknown, index) => {
      const where = `authorization_details[${index}]`;
      if (!isObject(detail) || typeof detail.type !== 'string') throw invalidToken(`invalid token: ${where} must be an object with a string "type"`);
      const current = detail.type === MERCURE_DETAIL_TYPE;
      if (!current && detail.type !== 'mercure') return; // other RFC 9396 types are for other resource servers
      const actions = current ? draftActions(detail.actions, where) : detailActions(detail.actions, where);
      const matchers = detailTopics(detail.topics, where, hubUrl, current ? DRAFT_SPELLING : MERCURE_SPELLING);
      if (detail.payload !== undefined && !isObject(detail.payload)) throw invalidToken(`invalid token: ${where}.payload must be a JSON object`);
      if (actions.has('publish')) {
        grantsPublish = true;
        publish.push(...matchers);
      }
      if (actions.has('subscribe')) {
        grantsSubscribe = true;
        subscribe.push(...matchers);
        if (detail.payload !== undefined) payloads.push({ matchers: new MatcherSet(matchers), payload: detail.payload });
      }
    });
  }

  if (publish.length + subscribe.length > MAX_SELECTORS) throw invalidToken(`invalid token: more than ${MAX_SELECTORS} topic selectors`);
  return {
    publish: grantsPublish ? new MatcherSet(publish) : null,
    subscribe: grantsSubscribe ? new MatcherSet(subscribe) : null,
    ...(legacyPayload !== undefined ? { payload: legacyPayload } : payloads[0] !== undefined ? { payload: payloads[0].payload } : {}),
    ...(payloads.length > 0 ? { payloads } : {}),
    ...(typeof payload.sub === 'string' ? { subject: payload.sub } : {}),
    ...(typeof payload.exp === 'number' ? { expiresAt: payload.exp * 1000 } : {}),
  };
}

function selectorList(value: unknown, where: string, hubUrl: string): TopicMatcher[] {
  if (!Array.isArray(value) || !value.every((s): s is string => typeof s === 'string')) {
    throw invalidToken(`invalid token: ${where} must be an array of strings`);
  }
  if (value.length > MAX_SELECTORS) throw invalidToken(`invalid token: ${where} has more than ${MAX_SELECTORS} selectors`);
  return value.map((source) => compileInToken(source, 'auto', where, hubUrl));
}

function detailActions(value: unknown, where: string): Set<string> {
  if (!Array.isArray(value) || value.length === 0 || !value.every((a) => a === 'publish' || a === 'subscribe')) {
    throw invalidToken(`invalid token: ${where}.actions must be a non-empty array of "publish" and "subscribe"`);
  }
  return new Set<string>(value);
}

/** How a detail type spells a topic matcher's type: the field, its default, the names it knows. */
interface MatcherSpelling {
  readonly field: 'matchType' | 'match_type';
  readonly fallback: string;
  readonly kinds: Readonly<Record<string, MatcherKind>>;
  readonly expected: string;
}

/** The older `mercure` detail type: `matchType` Exact (default) | URLPattern. */
const MERCURE_SPELLING: MatcherSpelling = { field: 'matchType', fallback: 'Exact', kinds: { Exact: 'exact', URLPattern: 'urlpattern' }, expected: '"Exact" or "URLPattern"' };
/** Draft 08: `{"match": ..., "match_type"?: exact (default) | urlpattern | uritemplate}`. */
const DRAFT_SPELLING: MatcherSpelling = { field: 'match_type', fallback: 'exact', kinds: MATCH_TYPES, expected: `one of ${Object.keys(MATCH_TYPES).join(', ')}` };

/** A detail's `topics`: a bounded, non-empty list of matchers; an unknown matcher type rejects the token. */
function detailTopics(value: unknown, where: string, hubUrl: string, spelling: MatcherSpelling): TopicMatcher[] {
  if (!Array.isArray(value) || value.length === 0) throw invalidToken(`invalid token: ${where}.topics must be a non-empty array`);
  if (value.length > MAX_SELECTORS) throw invalidToken(`invalid token: ${where}.topics has more than ${MAX_SELECTORS} entries`);
  return value.map((topic: unknown, index) => {
    const at = `${where}.topics[${index}]`;
    if (!isObject(topic) || typeof topic.match !== 'string') throw invalidToken(`invalid token: ${at} must be an object with a string "match"`);
    const type = topic[spelling.field] ?? spelling.fallback;
    const kind = typeof type === 'string' && Object.hasOwn(spelling.kinds, type) ? spelling.kinds[type] : undefined;
    if (kind === undefined) throw invalidToken(`invalid token: ${at}.${spelling.field} must be ${spelling.expected}`);
    return compileInToken(topic.match, kind, at, hubUrl);
  });
}

/** Draft 08: strings; the ones this hub does not know grant nothing and are ignored. */
function draftActions(value: unknown, where: string): Set<string> {
  if (!Array.isArray(value) || value.length === 0 || !value.every((a) => typeof a === 'string')) {
    throw invalidToken(`invalid token: ${where}.actions must be a non-empty array of strings`);
  }
  return new Set<string>(value.filter((a: string) => a === 'publish' || a === 'subscribe'));
}


function compileInToken(source: string, kind: MatcherKind, where: string, hubUrl: string): TopicMatcher {
  try {
    return compileMatcher(source, kind, hubUrl);
  } catch (error) {
    throw invalidToken(`invalid token: ${where}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every topic must be covered by the publish selectors (an empty list grants nothing). */
export function canPublish(claims: Claims | undefined, topics: readonly string[]): boolean {
  const publish = claims?.publish;
  return publish != null && topics.length > 0 && topics.every((topic) => publish.matches(topic));
}

/** For private updates: one of the topics must be covered by the subscribe selectors. */
export function canReceive(claims: Claims | undefined, topics: readonly string[]): boolean {
  return claims?.subscribe?.matchesAny(topics) ?? false;
}

/**
 * The payload to attach to a subscription (presence records): the first 1.0 subscribe
 * detail whose topics match the subscription's own selector, else the 0.x payload.
 */
export function payloadFor(claims: Claims | undefined, selector: string): unknown {
  if (claims === undefined) return undefined;
  const detail = claims.payloads?.find((entry) => entry.matchers.matches(selector));
  if (detail !== undefined) return detail.payload;
  // `payload` may be a detail's own (the default for callers that ignore selectors): not applicable here.
  return claims.payloads?.some((entry) => entry.payload === claims.payload) === true ? undefined : claims.payload;
}
