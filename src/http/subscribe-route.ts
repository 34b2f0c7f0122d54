// GET /.well-known/mercure: opens an event stream. The request is parsed into a
// SubscribeRequest; the hub registers the subscriber BEFORE the headers go out, so
// an update published right after the client's `open` cannot be missed.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HeraldError } from '../errors.js';
import { extractToken } from '../hub/auth/authenticator.js';
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
export function requestedLastEventId(request: FastifyRequest, query: FieldBag): string | undefined {
  const header = request.headers['last-event-id'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  const id = fromHeader ?? one(query, 'lastEventID') ?? one(query, 'last_event_id') ?? one(query, 'Last-Event-ID');
  return id === undefined || id === '' ? undefined : id;
}

export function registerSubscribeRoute(app: FastifyInstance, hub: Hub, extraHeaders: Record<string, string>): void {
  app.get(HUB_PATH, async (request, reply) => {
    const query = asFieldBag(request.query);
    const { matchers, selectors } = parseSelectors(query, hub.url, hub.maxTopics);
    const claims = await hub.authenticate(extractToken(request), 'subscriber');
    const http1 = request.raw.httpVersionMajor === 1;
    const socket = request.raw.socket;
    const start = await hub.subscribe({
      matchers: new MatcherSet(matchers),
      selectors,
      claims,
      lastEventId: requestedLastEventId(request, query),
      sink: http1 ? new SocketSink(socket) : new ResponseSink(reply.raw),
    });
    reply.hijack();
    if (socket.destroyed || request.raw.destroyed) {
      hub.disconnect(start.subscriber);
      return;
    }
    const headers = {
      ...(reply.getHeaders() as Record<string, string>),
      ...extraHeaders,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'private, no-cache, no-store, must-revalidate, max-age=0',
      'X-Accel-Buffering': 'no',
      'Last-Event-ID': headerSafe(start.lastEventId),
      'Mercure-Last-Event-ID': headerSafe(start.lastEventId),
    };
    if (http1) {
      socket.on('close', () => hub.disconnect(start.subscriber));
      socket.setNoDelay(true);
      socket.setTimeout(0);
      socket.write(responseHead(200, 'OK', { ...headers, Connection: 'close' }));
    } else {
      reply.raw.on('close', () => hub.disconnect(start.subscriber));
      reply.raw.writeHead(200, headers);
      reply.raw.flushHeaders();
    }
    void start.begin();
  });
}

/** Ids are IRIs and may hold non-ASCII characters, which HTTP headers cannot carry raw. */
function headerSafe(id: string): string {
  return /^[\x20-\x7e]*$/.test(id) ? id : encodeURI(id);
}
