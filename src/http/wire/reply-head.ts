// Replies for the raw door, as Node's ServerResponse would write them for the
// node:http door's writeHead (same header names, values and order: the door's own
// pairs, then Date, then Connection and Keep-Alive), head and body in ONE Buffer, so
// a reply is one socket write and no string is built or flattened for it: the status
// line, the fixed headers per content type, the Date line (once a second) and the
// Connection lines are bytes made once and copied in.
import { STATUS_CODES } from 'node:http';
import { SECURITY_HEADERS } from '../security-headers.js';

const SECURITY_TEXT = Object.entries(SECURITY_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`).join('');
const SAFE_VALUE = /^[\t\x20-\x7e]*$/;

/** Made once per key and kept (the keys are a few statuses, content types and timeouts). */
function memo<K>(make: (key: K) => string): (key: K) => Buffer {
  const made = new Map<K, Buffer>();
  return (key) => {
    let bytes = made.get(key);
    if (bytes === undefined) {
      bytes = Buffer.from(make(key), 'latin1');
      made.set(key, bytes);
    }
    return bytes;
  };
}

const statusLine = memo((status: number) => `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`);
/** From the content type to the length's name: `content-type: T`, the security headers, `content-length: `. */
const typeLines = memo((type: string) => `content-type: ${type}\r\n${SECURITY_TEXT}content-length: `);
const keepAliveLines = memo((seconds: number) => `\r\nConnection: keep-alive\r\nKeep-Alive: timeout=${seconds}\r\n\r\n`);
const CLOSE_LINES = Buffer.from('\r\nConnection: close\r\n\r\n', 'latin1');
const REQUEST_ID_NAME = Buffer.from('x-request-id: ', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');

/** Node's Date header (with the CRLF before it, ending the length's line), made at most once a second as Node caches it. */
let dateBytes = Buffer.alloc(0);
let dateUntil = 0;
function dateLine(): Buffer {
  const now = Date.now();
  if (now >= dateUntil) {
    dateBytes = Buffer.from(`\r\nDate: ${new Date(now).toUTCString()}`, 'latin1');
    dateUntil = now - (now % 1000) + 1000;
  }
  return dateBytes;
}

/**
 * The whole reply: head (every value in it is ASCII) and the body as UTF-8.
 * `keepAliveSeconds`: the connection stays open (`keep-alive` plus `Keep-Alive:
 * timeout=N`); undefined: `close`. `requestId`: X-Request-Id, when observability echoes it.
 */
export function replyBytes(
  status: number,
  body: string,
  extra: Readonly<Record<string, string>> | undefined,
  type: string,
  keepAliveSeconds: number | undefined,
  requestId: string | undefined,
): Buffer {
  const first = statusLine(status);
  let extraText = '';
  if (extra !== undefined) {
    for (const name in extra) {
      const value = extra[name]!;
      // Node's writeHead would throw on these; never let one split the head.
      if (!SAFE_VALUE.test(value)) throw new Error(`refusing to write header ${JSON.stringify(name)}: invalid characters`);
      extraText += `${name}: ${value}\r\n`;
    }
  }
  const types = typeLines(type);
  const bodyBytes = Buffer.byteLength(body);
  const length = String(bodyBytes);
  const date = dateLine();
  const last = keepAliveSeconds === undefined ? CLOSE_LINES : keepAliveLines(keepAliveSeconds);
  const size =
    first.length +
    (requestId === undefined ? 0 : REQUEST_ID_NAME.length + requestId.length + CRLF.length) +
    extraText.length +
    types.length +
    length.length +
    date.length +
    last.length +
    bodyBytes;
  const out = Buffer.allocUnsafe(size);
  let at = first.copy(out, 0);
  if (requestId !== undefined) {
    at += REQUEST_ID_NAME.copy(out, at);
    at += out.write(requestId, at, 'latin1');
    at += CRLF.copy(out, at);
  }
  if (extraText !== '') at += out.write(extraText, at, 'latin1');
  at += types.copy(out, at);
  at += out.write(length, at, 'latin1');
  at += date.copy(out, at);
  at += last.copy(out, at);
  if (bodyBytes > 0) at += bodyBytes === body.length ? out.write(body, at, 'latin1') : out.write(body, at, 'utf8');
  return out;
}
