// The process logger: pino, JSON lines on stdout. Tokens never reach it: the
// redaction list covers every place a request can carry one.
import { pino, type Logger } from 'pino';

export function createLogger(level: string): Logger {
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
  });
}
