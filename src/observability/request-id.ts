// Request ids: one per HTTP request, in every log line Fastify writes for it
// (request.log binds it as `reqId`) and echoed in the X-Request-Id response header.
// A proxy's or client's own X-Request-Id is kept when it looks like an id, so one
// request can be followed across services; anything else gets a fresh id.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

/** Printable, no spaces or quotes, short: safe in a header and a log line. */
const SANE_ID = /^[A-Za-z0-9._~:@/+=-]{1,128}$/;

export function isSaneRequestId(value: string): boolean {
  return SANE_ID.test(value);
}

/**
 * A genReqId for Fastify. Fresh ids are a per-process random prefix and a counter:
 * unique across restarts and replicas, and cheaper than a UUID per request.
 */
export function requestIdGenerator(): (request: IncomingMessage) => string {
  const prefix = randomBytes(4).toString('hex');
  let next = 0;
  return (request) => {
    const incoming = request.headers[REQUEST_ID_HEADER];
    if (typeof incoming === 'string' && isSaneRequestId(incoming)) return incoming;
    next++;
    return `${prefix}-${next.toString(36)}`;
  };
}
