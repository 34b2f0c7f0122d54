// GET /.well-known/mercure: opens an event stream. The request is parsed into a
// SubscribeRequest; the hub registers the subscriber BEFORE the headers go out, so
// an update published right after the client's `open` cannot be missed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { HeraldError } from '../errors.js';
import { extractToken, type TokenRequest } from '../hub/auth/authenticator.js';
import type { Hub } from '../hub/hub.js';
import { compileMatcher, MatcherSet, type MatcherKind, type TopicMatcher } from '../hub/topics/selectors.js';
import { asFieldBag, one, type FieldBag } from './fields.js';
import { HUB_PATH } from './publish-route.js';
import { SocketSink, responseHead } from './socket-sink.js';
import { ResponseSink } from './sse-sink.js';

/** Query parameter -> matcher kind: draft 07 `topic`, 1.0 `match*` (and Herald's snake_case alias). */
const SELECTOR_PARAMS: Record<string, MatcherKind> = {
  topic: 'auto',
  match: 'exact',
  matchExact: 'exact',
  matchURLPattern: 'urlpattern',
  match_urlpattern: 'urlpattern',
};

/** `maxSelectors` is --max-topics, the same bound a publication's topics have. */
export function parseSelectors(query: FieldBag, hubUrl: string, maxSelectors: number): { matchers: TopicMatcher[]; selectors: string[] } {
  const matchers: TopicMatcher[] = [];
  const selectors: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    const kind = SELECTOR_PARAMS[name];
    if (kind === undefined) {
      if (name.toLowerCase().startsWith('match')) throw new HeraldError('bad_request', `Unknown matcher parameter "${name}" (use topic, match or matchURLPattern)`);
      continue;
    }
    for (const source of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      if (matchers.length >= maxSelectors) throw new HeraldError('too_many_items', `Too many topic selectors (at most ${maxSelectors}, --max-topics)`);
      matchers.push(compileMatcher(source, kind, hubUrl));
      selectors.push(source);
    }
  }
  if (matchers.length === 0) throw new HeraldError('missing_topic', 'Subscribe with at least one "topic" (or "match") query parameter');
  return { matchers, selectors };
}

/** The resume point: the Last-Event-ID header (sent by EventSource on reconnect) wins over the query. */
export function requestedLastEventId(request: Pick<TokenRequest, 'headers'>, query: FieldBag): string | undefined {
  const header = request.headers['last-event-id'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  const id = fromHeader ?? one(query, 'lastEventID') ?? one(query, 'last_event_id') ?? one(query, 'Last-Event-ID');
  return id === undefined || id === '' ? undefined : id;
}

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
export async function openStream(hub: Hub, request: TokenRequest & { readonly query: FieldBag }, raw: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse, door: StreamDoor, extraHeaders: Record<string, string>): Promise<void> {
  const query = request.query;
  const { matchers, selectors } = parseSelectors(query, hub.url, hub.maxTopics);
  const claims = await hub.authenticate(extractToken(request), 'subscriber');
  const http1 = raw.httpVersionMajor === 1;
  const socket = raw.socket;
  const start = await hub.subscribe({
    matchers: new MatcherSet(matchers),
    selectors,
    claims,
    lastEventId: requestedLastEventId(request, query),
    sink: http1 ? new SocketSink(socket) : new ResponseSink(res),
  });
  const doorHeaders = door.takeOver();
  if (socket.destroyed || raw.destroyed) {
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
    socket.write(responseHead(200, 'OK', { ...headers, Connection: 'close' }));
    door.streaming?.(socket);
    socket.on('close', () => hub.disconnect(subscriber));
  } else {
    res.on('close', () => hub.disconnect(subscriber));
    (res as ServerResponse).writeHead(200, headers);
    (res as ServerResponse).flushHeaders();
  }
  void start.begin();
}

export function registerSubscribeRoute(app: FastifyInstance, hub: Hub, extraHeaders: Record<string, string>): void {
  app.get(HUB_PATH, async (request, reply) => {
    const door: StreamDoor = {
      takeOver: () => {
        reply.hijack();
        return reply.getHeaders() as Record<string, string>;
      },
    };
    await openStream(hub, { headers: request.headers, query: asFieldBag(request.query), cookies: request.cookies }, request.raw, reply.raw, door, extraHeaders);
  });
}

/** Ids are IRIs and may hold non-ASCII characters, which HTTP headers cannot carry raw. */
function headerSafe(id: string): string {
  return /^[\x20-\x7e]*$/.test(id) ? id : encodeURI(id);
}
