// CSRF defence, shared by the hub and the chat. A browser attaches cookies to any
// request, even one a foreign page makes it send, so a write authorised by a cookie
// must prove where it comes from: its Origin (or, without one, its Referer) must be
// the hub's public origin, the Host it was sent to, or one of --cors-origins.
// Requests authorised by an Authorization header need no check: a foreign page
// cannot set that header without a CORS preflight the hub refuses.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HeraldError } from '../errors.js';
import { carriesCookieCredentials } from '../hub/auth.js';

export interface OriginPolicy {
  /** The hub's public base URL; its origin is always allowed. */
  readonly publicUrl: string;
  /** Further allowed origins (--cors-origins); "*" allows any origin. */
  readonly allowedOrigins?: readonly string[];
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function parse(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Why the request's origin is refused, or undefined when it is allowed. */
export function originProblem(request: Pick<FastifyRequest, 'headers'>, policy: OriginPolicy): string | undefined {
  const origin = firstHeader(request.headers.origin);
  const referer = firstHeader(request.headers.referer);
  const claimed = origin ?? referer;
  const source = origin !== undefined ? 'Origin' : 'Referer';
  if (claimed === undefined || claimed === '') return 'send an Origin (or Referer) header naming this server';
  const allowed = policy.allowedOrigins ?? [];
  if (allowed.includes('*')) return undefined;
  const url = parse(claimed);
  // "null" (sandboxed frames, file: pages) never matches.
  if (url !== undefined && url.origin !== 'null') {
    const publicOrigin = parse(policy.publicUrl)?.origin;
    if (url.origin === publicOrigin) return undefined;
    if (allowed.some((entry) => parse(entry)?.origin === url.origin)) return undefined;
    // The Host the browser sent the request to (behind a proxy that keeps Host, with no --public-url).
    const host = firstHeader(request.headers.host) ?? firstHeader(request.headers[':authority']); // HTTP/2 has no Host
    if (host !== undefined && host !== '' && url.host === host.toLowerCase()) return undefined;
  }
  return `the ${source} ${JSON.stringify(claimed.slice(0, 200))} is not this server or an allowed origin`;
}

/** Throws HeraldError('forbidden') when the request's Origin/Referer is not allowed. */
export function assertAllowedOrigin(request: Pick<FastifyRequest, 'headers'>, policy: OriginPolicy): void {
  const problem = originProblem(request, policy);
  if (problem !== undefined) throw new HeraldError('forbidden', `Cross-site request refused: ${problem}`);
}

/**
 * Every state-changing request that carries a credential cookie (and no Authorization
 * header) is checked, on every route (the hub's publish, the chat's API), before its
 * body is even read. It looks at no path: the decision never depends on how the URL
 * was spelled.
 */
export function registerCsrfGuard(app: FastifyInstance, policy: OriginPolicy): void {
  // onRequest, after @fastify/cookie's own onRequest hook has parsed the cookies.
  app.addHook('onRequest', async (request) => {
    if (SAFE_METHODS.has(request.method)) return;
    // Not "the token came from the cookie": with ?access_token= beside the cookie the
    // hub would use the query, but a route reading the cookie itself (the chat) would not.
    if (carriesCookieCredentials(request)) assertAllowedOrigin(request, policy);
  });
}
