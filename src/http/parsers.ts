// The parsers both HTTP doors use (Fastify's routes and the front door), so a query
// string or a form body reads the same whichever door it came through: the query
// as Fastify's router splits it, and forms with fast-querystring (what
// @fastify/formbody uses by default; handed to it explicitly in server.ts).
import { parse } from 'fast-querystring';
import type { FieldBag } from './fields.js';

/** A query string (after `?`) or an urlencoded form body: repeated names become arrays. */
export function parseQueryString(text: string): FieldBag {
  return text.length === 0 ? {} : (parse(text) as FieldBag);
}

/**
 * Splits a request target the way find-my-way does (at the first `?` or `#`): the
 * path is compared raw (the front door takes only exact, unencoded paths), the rest
 * is the query string.
 */
export function splitTarget(url: string): { path: string; query: string } {
  const question = url.indexOf('?', 1);
  const hash = url.indexOf('#', 1);
  const at = hash !== -1 && (question === -1 || hash < question) ? hash : question;
  return at === -1 ? { path: url, query: '' } : { path: url.slice(0, at), query: url.slice(at + 1) };
}
