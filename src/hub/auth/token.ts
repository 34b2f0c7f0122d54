// Finds the bearer token of a request, with Mercure's precedence: the Authorization
// header, then the `access_token` (1.0) or `authorization` (0.x) query parameter, then
// the `mercureAuthorization` (0.x) or `mercureAccessToken` (1.0) cookie. Only the first
// mechanism present counts; the others are ignored, never merged.
import { HeraldError } from '../../errors.js';

export interface TokenRequest {
  readonly headers: Record<string, string | string[] | undefined>;
  /** The parsed query string (a Record); typed unknown so a Fastify request fits as is. */
  readonly query: unknown;
  readonly cookies?: Record<string, string | undefined>;
}

export interface ExtractTokenOptions {
  /** Cookie names tried in order (a hub sharing a domain with another may rename its cookie). */
  readonly cookieNames?: readonly string[];
}

const QUERY_NAMES = ['access_token', 'authorization'] as const;
// The 0.x name, the older 1.0 one, and draft 08's recommended one.
const COOKIE_NAMES = ['mercureAuthorization', 'mercureAccessToken', '__Secure-mercure_access_token'] as const;
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

/** Where a token came from: a cookie is sent by the browser on its own, hence the CSRF checks. */
export type TokenSource = 'header' | 'query' | 'cookie';

/** Throws HeraldError('unauthorized') for a malformed Authorization header or an ambiguous token. */
export function extractToken(req: TokenRequest, options: ExtractTokenOptions = {}): string | undefined {
  // The publish path's case, without the { token, source } object.
  const header = req.headers.authorization;
  if (typeof header === 'string') return headerToken(header);
  return extractCredentials(req, options)?.token;
}

/** extractToken, also saying which mechanism supplied the token. */
export function extractCredentials(req: TokenRequest, options: ExtractTokenOptions = {}): { token: string; source: TokenSource } | undefined {
  const header = req.headers.authorization ?? req.headers.Authorization;
  if (header !== undefined) {
    if (Array.isArray(header) && header.length !== 1) throw malformed('send a single Authorization header');
    return { token: headerToken(Array.isArray(header) ? (header[0] as string) : header), source: 'header' };
  }
  const query: Record<string, unknown> = typeof req.query === 'object' && req.query !== null ? (req.query as Record<string, unknown>) : {};
  for (const name of QUERY_NAMES) {
    const value = queryValue(query[name], name);
    if (value !== undefined) return { token: value, source: 'query' };
  }
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

/** An empty parameter counts as absent (`?authorization=` left by a client with no token). */
function queryValue(value: unknown, name: string): string | undefined {
  if (Array.isArray(value)) {
    const present = value.filter((v) => v !== '');
    if (present.length > 1) throw malformed(`send a single "${name}" query parameter`);
    value = present[0];
  }
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function headerToken(value: string): string {
  const token = bearerToken(value);
  if (token === undefined) throw malformed('the Authorization header must be "Bearer <token>"');
  return token;
}

function malformed(reason: string): HeraldError {
  return new HeraldError('unauthorized', `Malformed credentials: ${reason}`, { 'WWW-Authenticate': 'Bearer error="invalid_request"' });
}
