// A plain page at / so a browser opening the hub's origin gets an answer, with the
// Mercure discovery Link header. The chat app replaces it when it is mounted.
import type { FastifyInstance } from 'fastify';

import { discoveryLink } from '../hub/mercure-paths.js';

export { discoveryLink };

export function registerHomeRoute(app: FastifyInstance, hubUrl: string): void {
  app.get('/', async (_request, reply) =>
    reply
      .header('Link', discoveryLink(hubUrl))
      .type('text/html; charset=utf-8')
      .send(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Herald</title></head>' +
          '<body><h1>Herald</h1><p>A Mercure hub is running at <code>/.well-known/mercure</code>.</p></body></html>',
      ),
  );
}
