// What a subscribe request asks for, read the same by both doors: the topic matchers
// (draft 08 `match` / `match_<type>`, the 0.x `topic`, the older 1.0 spellings), the
// resume point, and, for the QUERY method, the same parameters in a form body.
import { HeraldError } from '../errors.js';
import type { TokenRequest } from '../hub/auth/authenticator.js';
import { compileMatcher, type MatcherKind, type TopicMatcher } from '../hub/topics/selectors.js';
import { all, one, type FieldBag } from './fields.js';

/**
 * Parameter -> matcher kind. Draft 08: `match` and `match_exact` (exact), `match_urlpattern`;
 * Herald also has `match_uritemplate` (RFC 6570, what 0.x `topic=` selectors are). The
 * 0.x `topic` and the older 1.0 `matchExact` / `matchURLPattern` keep working.
 */
const SELECTOR_PARAMS: Readonly<Record<string, MatcherKind>> = {
  match: 'exact',
  match_exact: 'exact',
  match_urlpattern: 'urlpattern',
  match_uritemplate: 'uritemplate',
  topic: 'auto',
  matchExact: 'exact',
  matchURLPattern: 'urlpattern',
};

/** The matcher type names a subscriber may use as `match_<type>` (advertised as mercure_matcher_types_supported). */
export const MATCHER_TYPE_NAMES: readonly string[] = Object.keys(SELECTOR_PARAMS).filter((name) => name.startsWith('match_')).map((name) => name.slice('match_'.length));

/** `maxSelectors` is --max-topics, the same bound a publication's topics have. */
export function parseSelectors(query: FieldBag, hubUrl: string, maxSelectors: number): { matchers: TopicMatcher[] } {
  const matchers: TopicMatcher[] = [];
  for (const [name, value] of Object.entries(query)) {
    const kind = Object.hasOwn(SELECTOR_PARAMS, name) ? SELECTOR_PARAMS[name] : undefined;
    if (kind === undefined) {
      // The whole `match` prefix is reserved (draft 08): a misspelled matcher fails loudly.
      if (name.toLowerCase().startsWith('match')) throw new HeraldError('bad_request', `Unknown matcher parameter ${JSON.stringify(name.slice(0, 64))} (use match, match_exact, match_urlpattern, match_uritemplate or topic)`);
      continue;
    }
    for (const source of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      if (matchers.length >= maxSelectors) throw new HeraldError('too_many_items', `Too many topic selectors (at most ${maxSelectors}, --max-topics)`);
      matchers.push(compileMatcher(source, kind, hubUrl));
    }
  }
  if (matchers.length === 0) throw new HeraldError('missing_topic', 'Subscribe with at least one "match" (or "topic") parameter');
  return { matchers };
}

const LAST_EVENT_ID_PARAMS = ['last_event_id', 'lastEventID', 'Last-Event-ID'] as const;

function fromParams(bag: FieldBag): string | undefined {
  for (const name of LAST_EVENT_ID_PARAMS) {
    const value = one(bag, name);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** The resume point: the Last-Event-ID header (sent by EventSource on reconnect), then the query, then a QUERY body. */
export function requestedLastEventId(request: Pick<TokenRequest, 'headers'>, query: FieldBag, body: FieldBag = {}): string | undefined {
  const header = request.headers['last-event-id'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  const id = fromHeader ?? fromParams(query) ?? fromParams(body);
  return id === undefined || id === '' ? undefined : id;
}

/** The union of the query's and the body's pairs (draft 08: as if all were in one component), query first. */
export function unionOfParams(query: FieldBag, body: FieldBag): FieldBag {
  const union: FieldBag = { ...query };
  for (const name of Object.keys(body)) {
    const values = [...all(query, name), ...all(body, name)];
    union[name] = values.length === 1 ? values[0] : values;
  }
  return union;
}

// A `%` followed by two hex digits, the first 8-F: a byte that is not ASCII, which must be part of valid UTF-8.
const HIGH_BYTE = /%[89a-fA-F][0-9a-fA-F]/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Throws 400 when a form-encoded text (a query string or a QUERY body) percent-encodes
 * bytes that are not UTF-8. The parser would keep such a sequence as literal text, so
 * it is looked for in the raw text: each name and value, percent-decoded as the URL
 * standard does, must decode as UTF-8 (draft 08, Subscription).
 */
export function refuseInvalidUtf8(text: string): void {
  if (!HIGH_BYTE.test(text)) return;
  for (const pair of text.split('&')) {
    for (const part of pair.split('=', 2)) {
      if (!HIGH_BYTE.test(part)) continue;
      try {
        UTF8.decode(percentDecode(part));
      } catch {
        throw new HeraldError('bad_request', 'A parameter is not valid UTF-8 once percent-decoded');
      }
    }
  }
}

function percentDecode(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'latin1');
  const out = Buffer.alloc(bytes.length);
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === 0x25 && isHex(bytes[i + 1]) && isHex(bytes[i + 2])) {
      out[length++] = Number.parseInt(String.fromCharCode(bytes[i + 1]!, bytes[i + 2]!), 16);
      i += 2;
    } else out[length++] = byte;
  }
  return out.subarray(0, length);
}

function isHex(byte: number | undefined): boolean {
  return byte !== undefined && ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66));
}
