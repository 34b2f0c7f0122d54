// The process logger: pino, JSON lines on stdout. Tokens never reach it: the
// redaction list covers every place a request can carry one.
import { pino, type DestinationStream, type Logger } from 'pino';

/** The query parameters that may carry a token (hub/auth/token.ts reads exactly these). */
export const TOKEN_QUERY_PARAMS = ['access_token', 'authorization'] as const;
const TOKEN_PARAMS: ReadonlySet<string> = new Set(TOKEN_QUERY_PARAMS);

/** Percent-decodes what decodes (one %XX at a time, so a malformed one cannot stop it), repeatedly. */
function decodedName(raw: string): string {
  let name = raw.replace(/\+/g, ' ');
  for (let i = 0; i < 3 && /%[0-9a-f]{2}/i.test(name); i++) {
    name = name.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
  return name.trim().toLowerCase();
}

/**
 * The URL with the value of every token parameter replaced. Parameters are recognised
 * by their decoded name in any case: the query parser decodes `%61ccess_token` to
 * `access_token`, so the hub accepts that spelling as a token.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const pairs = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    return eq >= 0 && TOKEN_PARAMS.has(decodedName(name)) ? `${name}=[redacted]` : pair;
  });
  return `${url.slice(0, q)}?${pairs.join('&')}`;
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  // Synchronous writes by default: pino's default asynchronous stream flushes itself on
  // exit and retries a failed write forever, so with stdout a pipe whose reader is gone
  // (`herald serve | head`, a pino-pretty that died) process.exit() never returned.
  // A synchronous write meets EPIPE at once, and pino then drops further lines.
  // Requests are not logged one by one, so the cost is a few lines a minute.
  const output = destination ?? pino.destination({ fd: 1, sync: true });
  const options = {
    level,
    base: { service: 'herald' },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.token'],
      censor: '[redacted]',
    },
    serializers: {
      // Query strings may carry ?authorization= or ?access_token=, in any spelling.
      req: (req: { method?: string; url?: string; id?: string }) => ({ id: req.id, method: req.method, url: req.url === undefined ? undefined : redactUrl(req.url) }),
    },
  };
  return pino(options, output);
}
