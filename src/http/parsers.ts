// The parser both HTTP doors use (Fastify's routes and the front door) for query
// strings and form bodies, so a request reads the same whichever door it came
// through: fast-querystring, what Fastify's router and @fastify/formbody use by
// default, handed to both explicitly in server.ts.
import { parse } from 'fast-querystring';
import type { FieldBag } from './fields.js';

/** A query string (after `?`) or an urlencoded form body: repeated names become arrays. */
export function parseQueryString(text: string): FieldBag {
  return text.length === 0 ? {} : (parse(text) as FieldBag);
}
