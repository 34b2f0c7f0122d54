// CSRF defence for the chat's cookie-authenticated writes. SameSite=Strict already
// keeps the cookie off cross-site requests in current browsers; this also refuses
// any write whose Origin (or, without one, Referer) is not this server, which covers
// older browsers and same-site sibling origins. Clients other than browsers must
// send an Origin header naming the server. The check itself is shared
// (src/edge/origin.ts), so the chat and the hub's publish apply one rule.
import type { FastifyRequest } from 'fastify';
import { assertAllowedOrigin } from '../edge/origin.js';

/**
 * Passes when the request's Origin or Referer names the Host it was sent to, or the
 * configured public URL (behind a proxy that rewrites Host).
 */
export function assertSameOrigin(request: FastifyRequest, publicUrl: string): void {
  assertAllowedOrigin(request, { publicUrl });
}
