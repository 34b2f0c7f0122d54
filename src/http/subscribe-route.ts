// GET (or QUERY) /.well-known/mercure: opens an event stream. The request is parsed into a
// SubscribeRequest; the hub registers the subscriber BEFORE the headers go out, so
// an update published right after the client's `open` cannot be missed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { extractCredentials, type TokenRequest } from '../hub/auth/authenticator.js';
import type { Hub } from '../hub/hub.js';
import { headerSafe } from '../hub/mercure-paths.js';
import { MatcherSet } from '../hub/topics/selectors.js';
import { asFieldBag, type FieldBag } from './fields.js';
import { parseQueryString } from './parsers.js';
import { HUB_PATH } from './publish-route.js';
import { SocketSink, responseHead } from './socket-sink.js';
import { ResponseSink } from './sse-sink.js';
import { parseSelectors, refuseInvalidUtf8, requestedLastEventId, unionOfParams } from './subscribe-params.js';

/**
 * Idle time before the kernel probes a stream's peer; Node then sends 10 probes 1 s
 * apart, so a vanished client is dropped about 15 s after its last packet when
 * nothing is in flight to it.
 */
export const STREAM_KEEPALIVE_MS = 5000;

/** The door's side of a stream: called once the subscriber is registered, it takes the response over and says what headers the door has set already. */
export interface StreamDoor {
  takeOver(): Record<string, string | number | readonly string[] | undefined>;
  /** HTTP/1: the head is on the socket, which carries the stream from now on. */
  streaming?(socket: Socket): void;
}

/**
 * The subscribe route for both doors (this Fastify route and front-door.ts): parses
 * the selectors and the token, registers the subscriber, writes the stream head.
 * Throws (before anything is written) on a refusal.
 */
export async function openStream(
  hub: Hub,
  request: TokenRequest & { readonly query: FieldBag; readonly body?: FieldBag },
  raw: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
  door: StreamDoor,
  extraHeaders: Record<string, string>,
): Promise<void> {
  const query = request.query;
  const url = raw.url ?? '';
  const mark = url.indexOf('?');
  if (mark >= 0) refuseInvalidUtf8(url.slice(mark + 1));
  const params = request.body === undefined ? query : unionOfParams(query, request.body);
  const { matchers } = parseSelectors(params, hub.url, hub.maxTopics);
  const claims = await hub.authenticate(extractCredentials(request), 'subscriber');
  const http1 = raw.httpVersionMajor === 1;
  const socket = raw.socket;
  const start = await hub.subscribe({
    matchers: new MatcherSet(matchers),
    claims,
    lastEventId: requestedLastEventId(request, query, request.body),
    sink: http1 ? new SocketSink(socket) : new ResponseSink(res),
  });
  const sink = start.subscriber.sink;
  const doorHeaders = door.takeOver();
  // A request whose body was read (QUERY) is destroyed once read: only an unfinished one means the client left.
  if (socket.destroyed || (raw.destroyed && !raw.readableEnded)) {
    hub.disconnect(start.subscriber);
    return;
  }
  const headers = {
    ...doorHeaders,
    ...extraHeaders,
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'private, no-cache, no-store, must-revalidate, max-age=0',
    'X-Accel-Buffering': 'no',
    'Last-Event-ID': headerSafe(start.lastEventId),
    'Mercure-Last-Event-ID': headerSafe(start.lastEventId),
    ...(start.replayTruncated ? { 'Herald-Replay-Truncated': '1' } : {}),
  };
  const subscriber = start.subscriber;
  if (http1) {
    socket.setNoDelay(true);
    socket.setTimeout(0);
    // A client whose network vanished sends no FIN: TCP keepalive finds it (docs/operations.md, "Half-open streams").
    socket.setKeepAlive(true, STREAM_KEEPALIVE_MS);
    socket.write(responseHead(200, 'OK', { ...headers, Connection: 'close' }));
    door.streaming?.(socket);
    if (sink instanceof SocketSink) sink.endsWithSocket(hub, subscriber);
    else socket.on('close', () => hub.disconnect(subscriber));
  } else {
    res.on('close', () => hub.disconnect(subscriber));
    (res as ServerResponse).writeHead(200, headers);
    (res as ServerResponse).flushHeaders();
  }
  void start.begin();
}

export function registerSubscribeRoute(app: FastifyInstance, hub: Hub, extraHeaders: Record<string, string>): void {
  const door = (reply: FastifyReply): StreamDoor => ({
    takeOver: () => {
      reply.hijack();
      return reply.getHeaders() as Record<string, string>;
    },
  });
  app.get(HUB_PATH, async (request, reply) => {
    await openStream(hub, { headers: request.headers, query: asFieldBag(request.query), cookies: request.cookies, raw: request.raw }, request.raw, reply.raw, door(reply), extraHeaders);
  });
  // QUERY (RFC 10008): the same parameters, also in a form body (draft 08), for matcher
  // lists too long for a URL. Only the front door's GET is hot: QUERY is always served here.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, text, done) => {
      try {
        refuseInvalidUtf8(text as string);
        done(null, parseQueryString(text as string));
      } catch (error) {
        done(error as Error, undefined);
      }
    });
    scope.route({
      method: 'QUERY',
      url: HUB_PATH,
      handler: async (request, reply) => {
        const body = asFieldBag(request.body);
        await openStream(hub, { headers: request.headers, query: asFieldBag(request.query), body, cookies: request.cookies, raw: request.raw }, request.raw, reply.raw, door(reply), extraHeaders);
      },
    });
  });
}
