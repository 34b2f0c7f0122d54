// Herald's own reader of an HTTP/1 request head, for the raw door (raw-door.ts). It
// recognises only the two hot routes in the plainest spelling HTTP allows and
// reads them exactly as Node's parser (llhttp) would; anything else is 'foreign'
// and goes, byte for byte, to Node's HTTP server. It never guesses: a character
// outside the strict grammar, a header that changes framing (Transfer-Encoding,
// Expect, Upgrade, an unusual Connection), a repeated header (Node merges or drops
// repeats by rules of its own), a missing Host on HTTP/1.1, a head over
// MAX_HEAD_BYTES: all foreign. Which of the recognised requests the door then
// serves is front-door-recognise.ts's rule, the same as the node:http door's.
import type { IncomingHttpHeaders } from 'node:http';
import { HUB_PATH } from '../../hub/mercure-paths.js';

/** Longer heads go to Node (which allows 16 KB and answers 431 past it). */
export const MAX_HEAD_BYTES = 8192;

export interface RequestHead {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly httpVersionMajor: 1;
  readonly httpVersionMinor: 0 | 1;
  readonly headers: IncomingHttpHeaders;
  /** Bytes of the head, its blank line included. */
  readonly length: number;
  /** HTTP/1.1 without `Connection: close`. HTTP/1.0 always closes (its keep-alive is an opt-in this door does not offer). */
  readonly keepAlive: boolean;
  /** Where the Content-Length value starts in the head's bytes (-1: none), for head-memo.ts. */
  readonly lengthAt: number;
}

const GET_PREFIX = Buffer.from(`GET ${HUB_PATH}`, 'latin1');
const POST_PREFIX = Buffer.from(`POST ${HUB_PATH}`, 'latin1');
const END_OF_HEAD = Buffer.from('\r\n\r\n', 'latin1');

// The whole head (but its final CRLF) in one linear pattern: an origin-form target of
// visible ASCII, HTTP/1.0 or 1.1, header names that are tokens right before their
// colon (no obs-fold, no space before the colon), values of tab, visible ASCII, space
// and obs-text (no CR, LF, NUL or other controls).
const HEAD_SHAPE = /^(?:GET|POST) \/[\x21-\x7e]* HTTP\/1\.[01]\r\n(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*\r\n)*$/;
// The start of such a head: what may still become one. Anything else is foreign at
// once, so Node answers malformed bytes as soon as it would have (never a wait).
const HEAD_START = /^(?:GET|POST) \/[\x21-\x7e]*(?: (?:H|HT|HTT|HTTP|HTTP\/|HTTP\/1|HTTP\/1\.|HTTP\/1\.[01]\r?|HTTP\/1\.[01]\r\n(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*\r\n)*(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+(?::[\t\x20-\x7e\x80-\xff]*\r?)?|\r)?)?)?$/;

/** Headers after which the request is not a plain Content-Length exchange. */
const FRAMING = new Set(['transfer-encoding', 'expect', 'upgrade', 'te', 'http2-settings', 'proxy-connection']);

const lowerNames = new Map<string, string>();
function lower(name: string): string {
  const known = lowerNames.get(name);
  if (known !== undefined) return known;
  const lowered = name.toLowerCase();
  if (lowerNames.size < 256) lowerNames.set(name, lowered);
  return lowered;
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * The head at the start of `bytes`: 'partial' while it may still become a recognised
 * head, 'foreign' as soon as it cannot.
 */
export function readHead(bytes: Buffer): RequestHead | 'partial' | 'foreign' {
  const prefix = bytes[0] === 0x47 ? GET_PREFIX : POST_PREFIX;
  const compared = Math.min(bytes.length, prefix.length);
  if (bytes.compare(prefix, 0, compared, 0, compared) !== 0) return 'foreign';
  const end = bytes.indexOf(END_OF_HEAD);
  if (end === -1) {
    if (bytes.length >= MAX_HEAD_BYTES) return 'foreign';
    return bytes.length <= prefix.length || HEAD_START.test(bytes.toString('latin1')) ? 'partial' : 'foreign';
  }
  if (end + 4 > MAX_HEAD_BYTES) return 'foreign';
  const text = bytes.toString('latin1', 0, end + 2);
  if (!HEAD_SHAPE.test(text)) return 'foreign';
  let lineEnd = text.indexOf('\r\n');
  const firstSpace = text.indexOf(' ');
  const secondSpace = text.indexOf(' ', firstSpace + 1);
  const method = text.slice(0, firstSpace) as 'GET' | 'POST';
  const url = text.slice(firstSpace + 1, secondSpace);
  const minor = text.charCodeAt(lineEnd - 1) === 0x31 ? 1 : 0;
  const headers: Record<string, string> = {};
  let lengthAt = -1;
  for (let start = lineEnd + 2; start < text.length; start = lineEnd + 2) {
    lineEnd = text.indexOf('\r\n', start);
    const colon = text.indexOf(':', start);
    const name = lower(text.slice(start, colon));
    // A repeat, or a name Object.prototype already answers (`constructor`, `__proto__`).
    if (headers[name] !== undefined) return 'foreign';
    let from = colon + 1;
    let to = lineEnd;
    while (from < to && isOws(text.charCodeAt(from))) from++;
    while (to > from && isOws(text.charCodeAt(to - 1))) to--;
    headers[name] = text.slice(from, to);
    if (name === 'content-length') lengthAt = from;
  }
  for (const name of FRAMING) if (headers[name] !== undefined) return 'foreign';
  if (minor === 1 && headers.host === undefined) return 'foreign'; // Node's 400 (requireHostHeader)
  const connection = headers.connection;
  let keepAlive = minor === 1;
  if (connection !== undefined) {
    const value = connection.toLowerCase();
    if (value === 'close') keepAlive = false;
    else if (value !== 'keep-alive') return 'foreign';
  }
  return { method, url, httpVersionMajor: 1, httpVersionMinor: minor, headers, length: end + 4, keepAlive, lengthAt };
}
