// Security headers on every reply, set in one onSend hook so no route (the hub's, the
// chat's, the static page's) can forget them. The page must work under this policy:
// no inline script or style, no framing, scripts and streams from this origin only,
// which is what turns an HTML injection into inert text.
import type { FastifyInstance } from 'fastify';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "connect-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  // Same-origin requests keep their Referer (a CSRF fallback when Origin is absent); others get none.
  'Referrer-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/** Adds SECURITY_HEADERS to every reply that does not set its own value. */
export function registerSecurityHeaders(app: FastifyInstance, headers: Readonly<Record<string, string>> = SECURITY_HEADERS): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    for (const [name, value] of Object.entries(headers)) {
      if (!reply.hasHeader(name)) reply.header(name, value);
    }
    return payload;
  });
}
