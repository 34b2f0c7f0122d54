// CSRF defence for the chat's cookie-authenticated writes. SameSite=Strict already
// keeps the cookie off cross-site requests in current browsers; this also refuses
// any write whose Origin (or, without one, Referer) is not this server, which covers
// older browsers and same-site sibling origins. Clients other than browsers must
// send an Origin header naming the server.
import type { FastifyRequest } from 'fastify';
import { HeraldError } from '../errors.js';

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Passes when the request's Origin or Referer names the Host it was sent to, or the
 * configured public URL (behind a proxy that rewrites Host).
 */
export function assertSameOrigin(request: FastifyRequest, publicUrl: string): void {
  const origin = firstHeader(request.headers.origin);
  const referer = firstHeader(request.headers.referer);
  const claimed = origin !== undefined ? origin : referer;
  const source = origin !== undefined ? 'Origin' : 'Referer';
  if (claimed === undefined) {
    throw new HeraldError('forbidden', 'Cross-site request refused: send an Origin (or Referer) header naming this server');
  }
  const claimedHost = hostOf(claimed);
  const allowed = new Set([firstHeader(request.headers.host), hostOf(publicUrl)].filter((h): h is string => h !== undefined && h !== ''));
  if (claimedHost === undefined || !allowed.has(claimedHost)) {
    throw new HeraldError('forbidden', `Cross-site request refused: the ${source} ${JSON.stringify(claimed.slice(0, 200))} is not this server`);
  }
}
