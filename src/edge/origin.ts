// Where a request says it comes from (Origin, or Referer without one), checked against
// this server's public origin, the Host it was sent to and --cors-origins. One rule for
// every edge that accepts cookie-authorised writes: the hub's (http/csrf.ts) and the
// chat's (chat/same-origin.ts).
import type { FastifyRequest } from 'fastify';
import { HeraldError } from '../errors.js';

export interface OriginPolicy {
  /** The hub's public base URL; its origin is always allowed. */
  readonly publicUrl: string;
  /** Further allowed origins (--cors-origins); "*" (any origin, without credentials) allows none for cookie-authorised writes. */
  readonly allowedOrigins?: readonly string[];
}

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
  // "*" is never an origin (parse fails): it grants no credentials, so no cookie-authorised write either.
  const allowed = policy.allowedOrigins ?? [];
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
