// The process logger: pino, JSON lines on stdout. Tokens never reach it: the
// redaction list covers every place a request can carry one.
import { pino, type Logger } from 'pino';

export function createLogger(level: string): Logger {
  // Synchronous writes: pino's default asynchronous stream flushes itself on exit
  // and retries a failed write forever, so with stdout a pipe whose reader is gone
  // (`herald serve | head`, a pino-pretty that died) process.exit() never returned.
  // A synchronous write meets EPIPE at once, and pino then drops further lines.
  // Requests are not logged one by one, so the cost is a few lines a minute.
  const destination = pino.destination({ fd: 1, sync: true });
  return pino({
    level,
    base: { service: 'herald' },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.token'],
      censor: '[redacted]',
    },
    serializers: {
      // Query strings may carry ?authorization= or ?access_token=.
      req: (req: { method?: string; url?: string; id?: string }) => ({ id: req.id, method: req.method, url: req.url?.replace(/([?&](?:authorization|access_token)=)[^&]*/gi, '$1[redacted]') }),
    },
  }, destination);
}
