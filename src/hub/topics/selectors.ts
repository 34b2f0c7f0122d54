// Topic selectors: compiles what subscribers and tokens name (exact topics, `*`,
// Mercure 0.x URI templates, Mercure 1.0 URL patterns) into matchers, and checks the
// topics publishers send. MatcherSet (matcher-set.ts) groups one subscriber's matchers.
//
// CPU bound: every matcher has a `cost`, an upper bound on the steps one evaluation
// takes per character of the topic (the hub refuses subscriptions whose selectors cost
// more than --max-selector-cost in total). URI templates run on a linear-time automaton
// (uri-template.ts): their cost is its size. URL patterns run on the URLPattern
// standard's backtracking RegExps: shapes with nested quantifiers are refused, each
// compiled pattern gets a `degree` (variable-width parts that may compete for the same
// characters; see url-pattern.ts), and a topic longer than MATCH_COST_BUDGET^(1/degree)
// characters is treated as not matching without running them, so one evaluation stays
// under about 2^22 backtracking steps; degrees above MAX_MATCH_DEGREE are refused.
import { HeraldError } from '../../errors.js';
import { compileUriTemplate } from './uri-template.js';
import { compileUrlPattern } from './url-pattern.js';
import { decodeUnreserved, isUnderHubPath } from '../mercure-paths.js';

export { MatcherSet } from './matcher-set.js';

/**
 * 'auto' is the draft-07 `topic=` selector: `*` -> any; contains `{` -> URI template; else
 * exact. 'uritemplate' (Herald's registered-style extra type, `match_uritemplate`): an
 * RFC 6570 template, which without an expression is an exact topic.
 */
export type MatcherKind = 'auto' | 'exact' | 'urlpattern' | 'uritemplate';

/**
 * A matcher type's canonical name (draft 08, Matcher Types), as subscription events and
 * the subscriptions API spell it in `match_type`; `uritemplate` is Herald's extra type.
 */
export type MatchType = 'exact' | 'urlpattern' | 'uritemplate';
export const MATCH_TYPES: readonly MatchType[] = ['exact', 'urlpattern', 'uritemplate'];

/** The draft's name of the type a selector was given as: a 0.x `topic=` is a template when it has an expression. */
export function matchTypeOf(source: string, kind: MatcherKind): MatchType {
  if (kind === 'auto') return source.includes('{') ? 'uritemplate' : 'exact';
  return kind;
}

export interface TopicMatcher {
  readonly kind: 'any' | 'exact' | 'template' | 'urlpattern';
  readonly source: string;
  /** The type the selector was given as (`*` keeps it: the wildcard is recognised before the type). */
  readonly matchType: MatchType;
  /** Upper bound on the steps one evaluation takes, per character of the topic. */
  readonly cost: number;
  /** The UTF-16 code unit every matching topic ends with, or -1: lets a MatcherSet skip matchers by a topic's last character. */
  readonly lastCode: number;
  matches(topic: string): boolean;
  /** False only when no topic starting with `prefix` (a hub-relative path) can match. */
  canMatchPrefix(prefix: string): boolean;
}

export const MAX_SELECTOR_LENGTH = 2048;
export const MAX_TOPIC_LENGTH = 2048;
export const MAX_MATCH_DEGREE = 3;
const MATCH_COST_BUDGET = 2 ** 22;
const URL_COMPONENTS = 8;

// C0, DEL, C1, and unpaired surrogates (not encodable as UTF-8).
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// Unicode format characters (bidi and zero-width controls): invisible, they let one topic pass for another (draft 08, Terminology).
const FORMAT_CHARS = /\p{Cf}/u;
// Printable ASCII holds none of the above (every Cf character is U+00AD or higher): the
// common topic passes one simple scan instead of the two above (about 90 -> 35 ns).
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Compiled matchers by kind, hub URL and source: many streams name the same selectors
 * (every client of one page), and a matcher is immutable between evaluations.
 */
const compiled = new Map<string, TopicMatcher>();
const COMPILED_CACHE_SIZE = 1000;

/** Throws HeraldError('invalid_field') naming the selector when it is invalid or too costly. */
export function compileMatcher(source: string, kind: MatcherKind, hubUrl: string): TopicMatcher {
  const key = `${kind}\u0000${hubUrl}\u0000${source}`;
  let matcher = compiled.get(key);
  if (matcher === undefined) {
    matcher = compileUncached(source, kind, hubUrl);
    if (compiled.size >= COMPILED_CACHE_SIZE) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, matcher);
  }
  return matcher;
}

function compileUncached(source: string, kind: MatcherKind, hubUrl: string): TopicMatcher {
  const problem = stringProblem(source, MAX_SELECTOR_LENGTH);
  if (problem !== undefined) throw invalidSelector(source, problem);
  const matchType = matchTypeOf(source, kind);
  if (source === '*') return { kind: 'any', source, matchType, cost: 1, lastCode: -1, matches: () => true, canMatchPrefix: () => true };
  if (kind === 'urlpattern') return urlPatternMatcher(source, hubUrl);
  if ((kind === 'auto' || kind === 'uritemplate') && source.includes('{')) return templateMatcher(source);
  return { kind: 'exact', source, matchType, cost: 1, lastCode: source.charCodeAt(source.length - 1), matches: (topic) => topic === source, canMatchPrefix: (prefix) => source.startsWith(prefix) };
}

function templateMatcher(source: string): TopicMatcher {
  let compiled;
  try {
    compiled = compileUriTemplate(source);
  } catch (error) {
    throw invalidSelector(source, errorMessage(error));
  }
  const { cost, lastCode, matches, canStartWith } = compiled;
  return { kind: 'template', source, matchType: 'uritemplate', cost, lastCode, matches, canMatchPrefix: canStartWith };
}

function urlPatternMatcher(source: string, hubUrl: string): TopicMatcher {
  let compiled;
  try {
    compiled = compileUrlPattern(source, hubUrl);
  } catch (error) {
    throw invalidSelector(source, `invalid URL pattern: ${errorMessage(error)}`);
  }
  const { pattern, degree, canMatchPath } = compiled;
  const maxLength = inputCap(source, degree);
  return {
    kind: 'urlpattern',
    source,
    matchType: 'urlpattern',
    // One RegExp per URL component, each up to maxLength^degree steps.
    cost: URL_COMPONENTS + Math.floor(maxLength ** degree / MAX_TOPIC_LENGTH),
    lastCode: -1,
    canMatchPrefix: canMatchPath,
    matches(topic) {
      if (topic.length > maxLength) return false;
      let url: URL;
      try {
        url = new URL(topic, hubUrl); // relative topics (the hub's own) resolve against the hub
      } catch {
        return false;
      }
      // Canonicalization percent-encodes, so the string the RegExps see can be longer than the topic.
      return url.href.length <= maxLength && pattern.test(url.href);
    },
  };
}

function inputCap(source: string, degree: number): number {
  if (degree > MAX_MATCH_DEGREE) {
    throw invalidSelector(
      source,
      `too complex: ${degree} variable parts may match the same characters (at most ${MAX_MATCH_DEGREE}); separate them with "/"`,
    );
  }
  return Math.min(MAX_TOPIC_LENGTH, Math.floor(MATCH_COST_BUDGET ** (1 / Math.max(1, degree))));
}

/**
 * True when the topic, resolved as a URI reference against the hub URL, has the path
 * `/.well-known/mercure` or one below it, whatever its scheme and authority: only the
 * hub publishes there (subscription events). Percent-encoded unreserved characters
 * are decoded first so `/.well-known/%6Dercure/x` cannot slip through.
 */
export function isReservedTopic(topic: string, hubUrl: string): boolean {
  // Fast path for the publish hot path. Resolving joins the base's path and the
  // topic's at a "/", so "well-known" cannot appear unless one of them holds it (or a
  // percent escape, or a tab/newline that URL parsing drops, could spell it).
  if (!topic.includes('well-known') && !hubUrl.includes('well-known') && !/[%\t\n\r]/.test(topic)) return false;
  let path: string;
  try {
    path = new URL(topic, hubUrl).pathname;
  } catch {
    return false; // not a URI reference: it cannot address the hub's namespace
  }
  return [path, decodeUnreserved(path)].some(isUnderHubPath);
}

/**
 * A publication's topic: HeraldError('field_too_long') (413, draft 08's publication limits)
 * over MAX_TOPIC_LENGTH, HeraldError('invalid_field') when empty or with control characters.
 */
export function validateTopic(topic: string): void {
  if (topic.length > MAX_TOPIC_LENGTH) throw new HeraldError('field_too_long', `Invalid topic ${quote(topic)}: longer than ${MAX_TOPIC_LENGTH} characters`);
  const problem = stringProblem(topic, MAX_TOPIC_LENGTH);
  if (problem !== undefined) {
    throw new HeraldError('invalid_field', `Invalid topic ${quote(topic)}: ${problem}`);
  }
}

function stringProblem(value: string, maxLength: number): string | undefined {
  if (value === '') return 'it is empty';
  if (value.length > maxLength) return `longer than ${maxLength} characters`;
  if (PRINTABLE_ASCII.test(value)) return undefined;
  const bad = FORBIDDEN_CHARS.exec(value);
  if (bad !== null) {
    const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return `it contains U+${code} at position ${bad.index} (control characters and unpaired surrogates are not allowed)`;
  }
  const format = FORMAT_CHARS.exec(value);
  if (format !== null) {
    const code = (format[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
    return `it contains U+${code} at position ${format.index} (Unicode format characters are not allowed)`;
  }
  return undefined;
}

function invalidSelector(source: string, problem: string): HeraldError {
  return new HeraldError('invalid_field', `Invalid topic selector ${quote(source)}: ${problem}`);
}

/** JSON-quoted, shortened so an error reply never echoes kilobytes back. */
function quote(value: string): string {
  return JSON.stringify(value.length > 120 ? `${value.slice(0, 120)}…` : value);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
