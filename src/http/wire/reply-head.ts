// Reply heads for the raw door, as Node's ServerResponse would write them for the
// node:http door's writeHead (same header names, values and order: the door's own
// pairs, then Date, then Connection and Keep-Alive), built from precomputed text:
// the status line and the fixed headers per status and content type are made once.
import { STATUS_CODES } from 'node:http';
import { SECURITY_HEADERS } from '../security-headers.js';

const SECURITY_TEXT = Object.entries(SECURITY_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`).join('');
const SAFE_VALUE = /^[\t\x20-\x7e]*$/;

const statusLines = new Map<number, string>();
function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    statusLines.set(status, line);
  }
  return line;
}

/** Node's Date header, made at most once a second (Node caches it the same way). */
let dateText = '';
let dateUntil = 0;
function dateLine(): string {
  const now = Date.now();
  if (now >= dateUntil) {
    dateText = `Date: ${new Date(now).toUTCString()}\r\n`;
    dateUntil = now - (now % 1000) + 1000;
  }
  return dateText;
}

export interface ReplyHeadOptions {
  /** X-Request-Id's value, when observability echoes it. */
  readonly requestId: string | undefined;
  readonly extra: Readonly<Record<string, string>> | undefined;
  readonly type: string;
  readonly bodyBytes: number;
  /** The connection stays open: `keep-alive` plus `Keep-Alive: timeout=N`, else `close`. */
  readonly keepAliveSeconds: number | undefined;
}

const closeLine = 'Connection: close\r\n\r\n';
const keepAliveLines = new Map<number, string>();

/** The whole head, blank line included, as latin1 text (every value in it is ASCII). */
export function replyHead(status: number, options: ReplyHeadOptions): string {
  let head = statusLine(status);
  if (options.requestId !== undefined) head += `x-request-id: ${options.requestId}\r\n`;
  const extra = options.extra;
  if (extra !== undefined) {
    for (const name in extra) {
      const value = extra[name]!;
      // Node's writeHead would throw on these; never let one split the head.
      if (!SAFE_VALUE.test(value)) throw new Error(`refusing to write header ${JSON.stringify(name)}: invalid characters`);
      head += `${name}: ${value}\r\n`;
    }
  }
  head += `content-type: ${options.type}\r\n${SECURITY_TEXT}content-length: ${options.bodyBytes}\r\n${dateLine()}`;
  const seconds = options.keepAliveSeconds;
  if (seconds === undefined) return head + closeLine;
  let lines = keepAliveLines.get(seconds);
  if (lines === undefined) {
    lines = `Connection: keep-alive\r\nKeep-Alive: timeout=${seconds}\r\n\r\n`;
    keepAliveLines.set(seconds, lines);
  }
  return head + lines;
}
