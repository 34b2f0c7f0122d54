// The live status page: GET /status (HTML), its script and stylesheet from
// web/status/ (no CDN, no inline script), and GET /status/stream, an event stream
// of one JSON sample per second that the page draws as sparklines. The stream is
// Herald's own SSE, outside the hub: samples are never stored in history.
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HeraldError } from '../errors.js';
import type { StatusSampler } from '../observability/status-sampler.js';
import { encodeEvent, encodeRetry } from '../sse/encode.js';

export const STATUS_PATH = '/status';
export const STATUS_ROOT = fileURLToPath(new URL('../../web/status/', import.meta.url));

const FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'status.js': 'text/javascript; charset=utf-8',
  'sparkline.js': 'text/javascript; charset=utf-8',
  'status.css': 'text/css; charset=utf-8',
};
/** A viewer this far behind is not watching any more. */
const MAX_PENDING_BYTES = 256 * 1024;
const RETRY_MS = 2000;

export interface StatusRouteOptions {
  readonly sampler: StatusSampler;
  /** Concurrent status streams (default 32): the page is for operators, not the public. */
  readonly maxViewers?: number;
  readonly root?: string;
}

export function registerStatusRoute(app: FastifyInstance, { sampler, maxViewers = 32, root = STATUS_ROOT }: StatusRouteOptions): void {
  const files = new Map(Object.keys(FILES).map((name) => [name, readFileSync(`${root}${name}`)]));
  const viewers = new Set<ServerResponse>();

  const sendFile = (name: string) => async (_request: unknown, reply: FastifyReply) =>
    reply.header('Cache-Control', 'no-cache').header('X-Content-Type-Options', 'nosniff').type(FILES[name]!).send(files.get(name));
  app.get(STATUS_PATH, sendFile('index.html'));
  for (const name of Object.keys(FILES)) app.get(`${STATUS_PATH}/${name}`, sendFile(name));

  app.get(`${STATUS_PATH}/stream`, async (request, reply) => {
    if (viewers.size >= maxViewers) {
      throw new HeraldError('too_many_connections', `At most ${maxViewers} status streams at once`, { 'Retry-After': '10' });
    }
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-store',
      'X-Accel-Buffering': 'no',
    });
    request.socket.setNoDelay(true);
    response.write(encodeEvent({ type: 'history', data: JSON.stringify(sampler.recent()) }));
    viewers.add(response);
    response.on('close', () => viewers.delete(response));
  });

  const stopListening = sampler.onSample((sample) => {
    if (viewers.size === 0) return;
    const bytes = encodeEvent({ type: 'sample', data: JSON.stringify(sample) });
    for (const viewer of viewers) {
      if (viewer.writableLength > MAX_PENDING_BYTES) viewer.destroy();
      else viewer.write(bytes);
    }
  });
  sampler.start();

  // Before the server waits for its connections: open streams would hold it forever.
  app.addHook('preClose', (done) => {
    const goodbye = encodeRetry(RETRY_MS);
    for (const viewer of viewers) {
      if (viewer.writableLength > 0) viewer.destroy();
      else viewer.end(goodbye);
    }
    viewers.clear();
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    stopListening();
    sampler.stop();
    done();
  });
}
