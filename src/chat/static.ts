// Serves the chat page (web/dist, built by scripts/build-web.mjs) at `/`. Everything
// the page needs comes from here: no CDN. When the page was never built, `/` says
// how to build it instead of failing.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { discoveryLink } from '../hub/mercure-paths.js';

/** web/dist relative to this module, from src/chat (tsx) as from dist/chat (built). */
export const WEB_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));

export async function registerPage(app: FastifyInstance, hubUrl: string, webRoot: string = WEB_ROOT): Promise<void> {
  const discovery = discoveryLink(hubUrl);
  if (!existsSync(`${webRoot}/index.html`)) {
    app.get('/', async (_request, reply) =>
      reply
        .header('Link', discovery)
        .type('text/html; charset=utf-8')
        .send(
          '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Herald</title></head><body><h1>Herald</h1>' +
            '<p>The hub runs at <code>/.well-known/mercure</code>. The chat page has not been built: run <code>npm run build</code>.</p></body></html>',
        ),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: webRoot,
    prefix: '/',
    index: ['index.html'],
    // The page must always be fresh after an upgrade; the bundle is small.
    cacheControl: false,
    setHeaders: (reply, path) => {
      reply.header('Cache-Control', 'no-cache');
      reply.header('X-Content-Type-Options', 'nosniff');
      if (path.endsWith('.html')) reply.header('Link', discovery);
    },
  });
}
