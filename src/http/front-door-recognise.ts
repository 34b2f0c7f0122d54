// Which requests the front door serves itself (front-door.ts): only exact, plain
// spellings of the two hot routes that it fully recognises; anything else is
// Fastify's to route, parse and refuse, exactly as it always did.
import type { IncomingMessage } from 'node:http';
import { HUB_PATH } from '../hub/mercure-paths.js';

/** Media types this door parses itself (lower-cased); any other goes to Fastify. */
export const BODY_TYPES: ReadonlyMap<string, 'form' | 'json'> = new Map([
  ['application/x-www-form-urlencoded', 'form'],
  ['application/x-www-form-urlencoded; charset=utf-8', 'form'],
  ['application/x-www-form-urlencoded;charset=utf-8', 'form'],
  ['application/json', 'json'],
  ['application/json; charset=utf-8', 'json'],
  ['application/json;charset=utf-8', 'json'],
]);

const DIGITS = /^[0-9]{1,15}$/;

/**
 * The query string when this door serves the request, undefined when Fastify does.
 * Only exact, plain spellings: anything else is Fastify's to route and refuse.
 */
export function recognise(request: Pick<IncomingMessage, 'httpVersionMajor' | 'method' | 'url' | 'headers'>, deps: { readonly bodyLimit: number }): string | undefined {
  if (request.httpVersionMajor !== 1) return undefined;
  const method = request.method;
  if (method !== 'GET' && method !== 'POST') return undefined;
  const url = request.url as string;
  if (!url.startsWith(HUB_PATH)) return undefined;
  let query = '';
  if (url.length > HUB_PATH.length) {
    const next = url.charCodeAt(HUB_PATH.length);
    if (next !== 63 /* ? */ && next !== 35 /* # */) return undefined;
    // find-my-way splits at the first '?' or '#', whichever comes first: here, right after the path.
    query = url.slice(HUB_PATH.length + 1);
  }
  const headers = request.headers;
  if (headers['transfer-encoding'] !== undefined || headers['accept-version'] !== undefined) return undefined;
  const length = headers['content-length'];
  if (method === 'GET') return length === undefined || length === '0' ? query : undefined;
  if (length === undefined || !DIGITS.test(length)) return undefined;
  const size = Number(length);
  if (size === 0 || size > deps.bodyLimit) return undefined;
  const type = headers['content-type'];
  if (type === undefined || !BODY_TYPES.has(type.toLowerCase())) return undefined;
  return query;
}
