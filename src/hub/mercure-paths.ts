// The Mercure protocol's paths, written once: the hub's endpoint, the subscriptions
// API below it, the discovery Link that points to it, and the reserved namespace
// (no publisher may use a topic under it).

/** The hub's endpoint: subscribe (GET) and publish (POST). */
export const HUB_PATH = '/.well-known/mercure';

/** The subscriptions API and the topics of subscription (presence) events. */
export const SUBSCRIPTIONS_PATH = `${HUB_PATH}/subscriptions`;

/**
 * The shape of subscription events and of the subscriptions API (--subscriptions-format):
 * `draft` (draft 08), `0.x` (pre-standardization), `both` (two events per change).
 * Written here, free of Node imports, because the chat's page reads it too.
 */
export type SubscriptionsFormat = 'draft' | '0.x' | 'both';

/** The Mercure discovery Link header for a hub whose public base URL is `hubUrl`. */
export function discoveryLink(hubUrl: string): string {
  return `<${hubUrl}${HUB_PATH}>; rel="mercure"`;
}

/** Whether a URL path is the hub's endpoint or one below it (the reserved namespace). */
export function isUnderHubPath(path: string): boolean {
  return path === HUB_PATH || path.startsWith(`${HUB_PATH}/`);
}

/** Ids are IRIs and may hold non-ASCII characters, which HTTP headers cannot carry raw. */
export function headerSafe(id: string): string {
  return /^[\x20-\x7e]*$/.test(id) ? id : encodeURI(id);
}

/**
 * A path's percent-encoded unreserved characters decoded (`%2e` is `.`, `%61` is `a`),
 * the spellings RFC 3986 says name the same resource, so `/.well-known/%6Dercure/...`
 * is the hub's path. Other escapes are left as they are.
 */
export function decodeUnreserved(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (escape: string, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(char) ? char : escape;
  });
}
