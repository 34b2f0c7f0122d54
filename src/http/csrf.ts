// CSRF defence, shared by the hub and the chat. A browser attaches cookies to any
// request, even one a foreign page makes it send, so a write authorised by a cookie
// must prove where it comes from: its Origin (or, without one, its Referer) must be
// the hub's public origin, the Host it was sent to, or one of --cors-origins.
// Requests authorised by an Authorization header need no check: a foreign page
// cannot set that header without a CORS preflight the hub refuses.
import type { FastifyInstance } from 'fastify';
import { assertAllowedOrigin, type OriginPolicy } from '../edge/origin.js';
import { carriesCookieCredentials, type TokenRequest } from '../hub/auth/authenticator.js';

export type { OriginPolicy };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every state-changing request that carries a credential cookie (and no Authorization
 * header) is checked, on every route (the hub's publish, the chat's API), before its
 * body is even read. It looks at no path: the decision never depends on how the URL
 * was spelled.
 */
export function registerCsrfGuard(app: FastifyInstance, policy: OriginPolicy): void {
  // onRequest, after @fastify/cookie's own onRequest hook has parsed the cookies.
  app.addHook('onRequest', async (request) => checkCsrf(request, policy));
}

/** The guard itself, for both doors: throws HeraldError('forbidden') for a cookie-authorised write from elsewhere. */
export function checkCsrf(request: TokenRequest & { readonly method: string }, policy: OriginPolicy): void {
  if (SAFE_METHODS.has(request.method)) return;
  // Not "the token came from the cookie": with ?access_token= beside the cookie the
  // hub would use the query, but a route reading the cookie itself (the chat) would not.
  if (carriesCookieCredentials(request)) assertAllowedOrigin(request, policy);
}
