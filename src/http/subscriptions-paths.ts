// Which subscriptions API resource a path names, under --subscriptions-format. The
// draft's paths are /subscriptions[/{match_type}/{match}[/{subscriber}]], the 0.x
// ones /subscriptions[/{topic}[/{subscriber}]]. With `both`, a two-segment path is
// the draft's per-matcher collection when its first segment is a matcher type's
// canonical name (exact, urlpattern, uritemplate), else the 0.x single subscription;
// the bare collection is the draft's unless the client asks for application/ld+json.
import { HeraldError } from '../errors.js';
import { isMatchType, LEGACY_MEDIA_TYPE, SUBSCRIPTIONS_PATH, type SubscriptionsFormat } from '../hub/presence.js';
import type { MatchType } from '../hub/topics/selectors.js';

export type SubscriptionsResource =
  | { readonly shape: 'draft'; readonly matchType?: MatchType; readonly match?: string; readonly subscriber?: string }
  | { readonly shape: '0.x'; readonly topic?: string; readonly subscriber?: string };

/**
 * `path` is the request's absolute path, still percent-encoded (no query). Undefined:
 * no such resource (404). A segment that does not percent-decode is a 400.
 */
export function resolveSubscriptionsPath(path: string, format: SubscriptionsFormat, accept: string | undefined): SubscriptionsResource | undefined {
  if (path !== SUBSCRIPTIONS_PATH && !path.startsWith(`${SUBSCRIPTIONS_PATH}/`)) return undefined;
  const rest = path.slice(SUBSCRIPTIONS_PATH.length + 1);
  const segments = path === SUBSCRIPTIONS_PATH ? [] : rest.split('/').map(decodeSegment);
  if (segments.some((segment) => segment === '')) return undefined;
  const draft = format !== '0.x';
  const legacy = format !== 'draft';
  const [first, second, third] = segments;
  switch (segments.length) {
    case 0:
      return legacy && (!draft || accept?.includes(LEGACY_MEDIA_TYPE) === true) ? { shape: '0.x' } : { shape: 'draft' };
    case 1:
      return legacy ? { shape: '0.x', topic: first! } : undefined;
    case 2:
      if (draft && isMatchType(first!)) return { shape: 'draft', matchType: first, match: second! };
      return legacy ? { shape: '0.x', topic: first!, subscriber: second! } : undefined;
    case 3:
      return draft && isMatchType(first!) ? { shape: 'draft', matchType: first, match: second!, subscriber: third! } : undefined;
    default:
      return undefined;
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HeraldError('bad_request', 'A path segment of the subscriptions API is not valid percent-encoded UTF-8');
  }
}
