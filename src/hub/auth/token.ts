// Finds the bearer token of a request, with Mercure's precedence: the Authorization
// header, then the `access_token` (1.0) or `authorization` (0.x) query parameter, then
// the `mercureAuthorization` (0.x), `mercureAccessToken` (1.0) or
// `__Secure-mercure_access_token` (draft 08) cookie. A cookie is ambient (the browser
// adds it on its own), so it is ignored beside an explicit token, as draft 08 says for
// the header; two explicit presentations (a header and a query token, two query
// tokens) are a malformed request (RFC 6750 invalid_request, 400), never merged.
// Whether a query token is then accepted is the authenticator's decision (token-policy.ts).
import { HeraldError } from '../../errors.js';
import { TOKEN_QUERY_PARAMS } from '../../log.js';

export interface TokenRequest {
  readonly headers: Record<string, string | string[] | undefined>;
  /** The parsed query string (a Record); typed unknown so a Fastify request fits as is. */
  readonly query: unknown;
  readonly cookies?: Record<string, string | undefined>;
  /**
   * Node's request, when there is one: its parsed `headers` keep only the first of two
   * Authorization headers, its `rawHeaders` show both (a Fastify request fits as is).
   */
  readonly raw?: { readonly rawHeaders?: readonly string[] } | undefined;
}

export interface ExtractTokenOptions {
  /** Cookie names tried in order (a hub sharing a domain with another may rename its cookie). */
  readonly cookieNames?: readonly string[];
}

/** Where a token came from: a cookie is sent by the browser on its own, hence the CSRF checks; a URL leaks (logs, Referer, history). */
export type TokenSource = 'header' | 'query' | 'cookie';

/** A presented token and how it was presented. */
export interface Credentials {
  readonly token: string;
  readonly source: TokenSource;
}

/** The query parameters that carry a token: log.ts owns the list, as it redacts them from logged URLs. */
const QUERY_TOKEN_NAMES = TOKEN_QUERY_PARAMS;
/** Draft 08's recommended cookie name (advertised as mercure_cookie). */
export const DRAFT_COOKIE_NAME = '__Secure-mercure_access_token';
// The 0.x name, the older 1.0 one, and draft 08's recommended one.
const COOKIE_NAMES = ['mercureAuthorization', 'mercureAccessToken', DRAFT_COOKIE_NAME] as const;
// RFC 6750 b64token after the case-insensitive scheme name: /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i,
// read by hand (bearerToken) because a match array per publish is garbage.
const SCHEME = 'bearer';
const B64TOKEN = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/') B64TOKEN[c.charCodeAt(0)] = 1;

/** The token of `Bearer <token>`, or undefined when the value is not exactly that shape. */
export function bearerToken(value: string): string | undefined {
  const n = value.length;
  let at = 0;
  for (; at < SCHEME.length; at++) if (at >= n || (value.charCodeAt(at) | 0x20) !== SCHEME.charCodeAt(at)) return undefined;
  if (at >= n || value.charCodeAt(at) !== 0x20) return undefined;
  while (at < n && value.charCodeAt(at) === 0x20) at++;
  const start = at;
  while (at < n && value.charCodeAt(at) < 128 && B64TOKEN[value.charCodeAt(at)] === 1) at++;
  if (at === start) return undefined;
  while (at < n && value.charCodeAt(at) === 0x3d) at++;
  const end = at;
  while (at < n && value.charCodeAt(at) === 0x20) at++;
  return at === n ? (start === 0 && end === n ? value : value.slice(start, end)) : undefined;
}

/** Throws HeraldError('invalid_request') for a malformed or ambiguous presentation. */
export function extractToken(req: TokenRequest, options: ExtractTokenOptions = {}): string | undefined {
  return extractCredentials(req, options)?.token;
}

/** extractToken, also saying which mechanism supplied the token. */
export function extractCredentials(req: TokenRequest, options: ExtractTokenOptions = {}): Credentials | undefined {
  const header = req.headers.authorization ?? req.headers.Authorization;
  const query = queryToken(req.query);
  if (header !== undefined) {
    if ((Array.isArray(header) && header.length !== 1) || repeatedAuthorization(req.raw?.rawHeaders)) throw malformedPresentation('send a single Authorization header');
    const value = Array.isArray(header) ? (header[0] as string) : header;
    const token = bearerToken(value);
    if (token === undefined) throw malformedPresentation('the Authorization header must be "Bearer <token>"');
    if (query !== undefined) throw malformedPresentation('send the token once: in the Authorization header, not also in the URL');
    return { token, source: 'header' };
  }
  if (query !== undefined) return { token: query, source: 'query' };
  for (const name of options.cookieNames ?? COOKIE_NAMES) {
    const value = req.cookies?.[name];
    if (value !== undefined && value !== '') return { token: value, source: 'cookie' };
  }
  return undefined;
}

/**
 * True when the request carries a credential cookie and no Authorization header:
 * whatever its query says, a route may act on the cookie (the chat reads its session
 * from it), so the CSRF guard must treat such a write as cookie-authorised.
 */
export function carriesCookieCredentials(req: TokenRequest, options: ExtractTokenOptions = {}): boolean {
  if ((req.headers.authorization ?? req.headers.Authorization) !== undefined) return false;
  return (options.cookieNames ?? COOKIE_NAMES).some((name) => {
    const value = req.cookies?.[name];
    return value !== undefined && value !== '';
  });
}

function repeatedAuthorization(rawHeaders: readonly string[] | undefined): boolean {
  if (rawHeaders === undefined) return false;
  let seen = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.length === 13 && rawHeaders[i]!.toLowerCase() === 'authorization' && ++seen > 1) return true;
  return false;
}

/** The one token of the query; an empty parameter counts as absent (`?authorization=` left by a client with no token). */
function queryToken(raw: unknown): string | undefined {
  const query: Record<string, unknown> = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  let found: { name: string; value: string } | undefined;
  for (const name of QUERY_TOKEN_NAMES) {
    let value = query[name];
    if (Array.isArray(value)) {
      const present = value.filter((v) => v !== '');
      if (present.length > 1) throw malformedPresentation(`send a single "${name}" query parameter`);
      value = present[0];
    }
    if (typeof value !== 'string' || value === '') continue;
    if (found !== undefined) throw malformedPresentation(`send one token: both "${found.name}" and "${name}" are in the URL`);
    found = { name, value };
  }
  return found?.value;
}

/** RFC 6750 invalid_request: a 400 whose challenge says the presentation, not the token's validity, is at fault. */
export function malformedPresentation(reason: string): HeraldError {
  return new HeraldError('invalid_request', `Malformed credentials: ${reason}`, { 'WWW-Authenticate': 'Bearer error="invalid_request"' });
}
