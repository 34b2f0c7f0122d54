// The front door: a node:http request listener in front of Fastify that serves the
// two hot routes, POST and GET /.well-known/mercure, without Fastify's per-request
// cost (Request/Reply objects, a child logger, hook chains, promise per hook), and
// hands every other request to Fastify unchanged.
//
// It serves only what it fully recognises and leaves the rest to Fastify, which then
// answers exactly as it always did: a path spelled any other way (percent-encoded,
// `;`, absolute form), HEAD, chunked or unsized bodies, an empty body, an oversized
// one, an unusual Content-Type, HTTP/2, and anything while the server is closing
// (Fastify's 503; front-door-recognise.ts has the exact rule). What it
// serves goes through the same functions the Fastify hooks and routes call: request
// ids, cookies, CSRF guard, limits, parsers, the routes themselves, error replies,
// security headers, metrics (see server.ts, where both doors get the same instances).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Hub } from '../hub/hub.js';
import type { Telemetry } from '../observability/telemetry.js';
import { checkCsrf, type OriginPolicy } from './csrf.js';
import { classifyFailure, errorBody, INTERNAL_ERROR_BODY, JSON_TYPE, logFailure } from './errors.js';
import type { FieldBag } from './fields.js';
import type { EdgeLimits } from './limits.js';
import { REQUEST_ID_HEADER } from './metrics.js';
import { parseQueryString } from './parsers.js';
import { clientIp } from './client-ip.js';
import { BODY_TYPES, recognise } from './front-door-recognise.js';
import { publishBody } from './publish-route.js';
import { releaseHttpState } from './release-http.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { openStream, type StreamDoor } from './subscribe-route.js';

export interface FrontDoorDeps {
  readonly hub: Hub;
  readonly limits: EdgeLimits;
  readonly csrf: OriginPolicy;
  /** The server's one request-id generator (Fastify's genReqId too). */
  readonly requestId: (request: IncomingMessage) => string;
  /** Absent: no X-Request-Id header and no publish metrics (as in Fastify without observability). */
  readonly telemetry: Telemetry | undefined;
  readonly bodyLimit: number;
  /** @fastify/cookie's parser (the instance's parseCookie). */
  readonly parseCookie: (header: string) => Record<string, string | undefined>;
  /** Fastify's own JSON body parser (getDefaultJsonParser), so errors are Fastify's errors. */
  readonly parseJson: (request: IncomingMessage, body: string, done: (error: Error | null, value?: unknown) => void) => void;
  readonly logger: Logger;
  /** Extra headers of an event stream's head (the discovery Link). */
  readonly streamHeaders: Record<string, string>;
  /** --trust-proxy: the client's address comes from X-Forwarded-For (client-ip.ts). */
  readonly trustProxy: boolean;
}

type Listener = (request: IncomingMessage, response: ServerResponse) => void;

const EMPTY: FieldBag = Object.freeze({}) as FieldBag;
const NO_COOKIES: Record<string, string | undefined> = Object.freeze({}) as Record<string, string | undefined>;
const SECURITY_PAIRS: readonly string[] = Object.entries(SECURITY_HEADERS).flat();

/** One request through this door: the view every shared function reads, and what the reply needs. */
class Exchange implements StreamDoor {
  readonly method: string;
  readonly headers: IncomingMessage['headers'];
  readonly query: FieldBag;
  readonly cookies: Record<string, string | undefined>;
  readonly ip: string;
  /** This request's id (in log lines); echoed as X-Request-Id only with observability on, as Fastify's hook does. */
  readonly requestId: string;
  readonly id: string | undefined;
  /** The stream slot (--max-subscriptions-per-ip, --max-connections), released when the response or stream is over. */
  releaseSlot: (() => void) | undefined;
  kind: 'form' | 'json' | undefined;
  chunks: Buffer[] | undefined;
  received = 0;
  expected = 0;

  constructor(
    readonly door: FrontDoor,
    readonly deps: FrontDoorDeps,
    readonly request: IncomingMessage,
    readonly response: ServerResponse,
    queryText: string,
  ) {
    this.method = request.method as string;
    this.headers = request.headers;
    this.requestId = deps.requestId(request);
    this.id = deps.telemetry === undefined ? undefined : this.requestId;
    this.query = queryText.length === 0 ? EMPTY : parseQueryString(queryText);
    const cookie = request.headers.cookie;
    this.cookies = cookie ? deps.parseCookie(cookie) : NO_COOKIES;
    this.ip = clientIp(request, deps.trustProxy);
  }

  /** Set once a stream owns the socket: no reply may be written after that. */
  tookOver = false;

  /** StreamDoor: the stream head carries the headers Fastify's onRequest hooks would have set. */
  takeOver(): Record<string, string> {
    this.tookOver = true;
    return this.id === undefined ? {} : { [REQUEST_ID_HEADER]: this.id };
  }

  /** StreamDoor: Node's request, response and parser are let go; the stream's slot now ends with the socket. */
  streaming(socket: Socket): void {
    if (!releaseHttpState(this.request, this.response, socket)) return;
    this.door.stats.released++;
    if (this.releaseSlot !== undefined) {
      this.response.removeListener('close', this.releaseSlot);
      socket.once('close', this.releaseSlot);
    }
  }

  reply(status: number, type: string, body: string, extra: Readonly<Record<string, string>> | undefined): void {
    const response = this.response;
    if (response.headersSent || response.destroyed) return;
    const pairs: string[] = [];
    if (this.id !== undefined) pairs.push(REQUEST_ID_HEADER, this.id);
    if (extra !== undefined) for (const name in extra) pairs.push(name, extra[name]!);
    pairs.push('content-type', type, ...SECURITY_PAIRS, 'content-length', String(Buffer.byteLength(body)));
    response.writeHead(status, pairs);
    response.end(body);
    if (this.method === 'POST') this.deps.telemetry?.publishAnswered(status);
  }

  fail(error: unknown): void {
    const deps = this.deps;
    if (this.tookOver) {
      // The stream's head may be on the wire already: a reply now would corrupt it.
      deps.logger.child({ reqId: this.requestId }).error({ err: error }, 'event stream failed after its start');
      this.request.socket.destroy();
      return;
    }
    deps.limits.noteRefusal(error, this.ip, this.method, this.request.url as string);
    const failure = classifyFailure(error);
    if (failure.unexpected || failure.error.status >= 500) logFailure(deps.logger.child({ reqId: this.requestId }), failure, error);
    if (failure.unexpected) this.reply(500, JSON_TYPE, JSON.stringify(INTERNAL_ERROR_BODY), undefined);
    else this.reply(failure.error.status, JSON_TYPE, JSON.stringify(errorBody(failure.error)), failure.error.headers);
  }

  published(answer: { type: string; body: string }): void {
    this.reply(200, answer.type, answer.body, undefined);
  }
}

const EXCHANGE = Symbol('frontDoorExchange');
type DoorRequest = IncomingMessage & { [EXCHANGE]?: Exchange };

// Body listeners shared by every request (the exchange hangs off the request), so a
// publish allocates no closures for them.
function onBodyData(this: DoorRequest, chunk: Buffer): void {
  const exchange = this[EXCHANGE]!;
  exchange.received += chunk.length;
  (exchange.chunks ??= []).push(chunk);
}

function onBodyEnd(this: DoorRequest): void {
  const exchange = this[EXCHANGE]!;
  this[EXCHANGE] = undefined;
  this.removeListener('error', onBodyError);
  exchange.door.bodyRead(exchange);
}

function onBodyError(this: DoorRequest, error: Error & { statusCode?: number }): void {
  const exchange = this[EXCHANGE]!;
  this[EXCHANGE] = undefined;
  this.removeListener('data', onBodyData);
  this.removeListener('end', onBodyEnd);
  // As Fastify's body reader: a failed upload is a 400.
  if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400;
  exchange.fail(error);
}

let parsedJson: { error: Error | null; value: unknown } = { error: null, value: undefined };
function captureJson(error: Error | null, value?: unknown): void {
  parsedJson = { error, value };
}

export class FrontDoor {
  /** Requests this door served, and those it handed to Fastify (tests check which door answered). */
  readonly stats = { served: 0, handedOn: 0, released: 0 };
  private deps: FrontDoorDeps | undefined;
  private closing = false;

  /** Until configured (Fastify's plugins registered), every request goes to Fastify. */
  configure(deps: FrontDoorDeps): void {
    this.deps = deps;
  }

  /** From now on Fastify answers everything (with its 503 while closing). */
  close(): void {
    this.closing = true;
  }

  /** The node:http request listener: this door's routes, else Fastify's handler. */
  listener(fallback: Listener): Listener {
    return (request, response) => {
      const deps = this.deps;
      const queryText = deps === undefined || this.closing ? undefined : recognise(request, deps);
      if (queryText === undefined) {
        this.stats.handedOn++;
        fallback(request, response);
      } else {
        this.stats.served++;
        this.serve(new Exchange(this, deps!, request, response, queryText));
      }
    };
  }

  private serve(exchange: Exchange): void {
    const deps = exchange.deps;
    try {
      checkCsrf(exchange, deps.csrf);
      if (exchange.method === 'GET') {
        if (deps.limits.limitsStreams) {
          exchange.releaseSlot = deps.limits.acquireStream(exchange.ip);
          exchange.response.once('close', exchange.releaseSlot);
        }
        openStream(deps.hub, exchange, exchange.request, exchange.response, exchange, deps.streamHeaders).catch((error: unknown) => exchange.fail(error));
        return;
      }
    } catch (error) {
      exchange.fail(error);
      return;
    }
    const request = exchange.request as DoorRequest;
    exchange.kind = BODY_TYPES.get((request.headers['content-type'] as string).toLowerCase());
    exchange.expected = Number(request.headers['content-length']);
    request[EXCHANGE] = exchange;
    request.on('data', onBodyData);
    request.once('end', onBodyEnd);
    request.once('error', onBodyError);
  }

  /** @internal The body is in: parse it as Fastify's parsers would, charge the rate limit, publish. */
  bodyRead(exchange: Exchange): void {
    try {
      if (exchange.received !== exchange.expected) throw contentLengthMismatch();
      const chunks = exchange.chunks ?? [];
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, exchange.received);
      let body: unknown;
      if (exchange.kind === 'json') {
        exchange.deps.parseJson(exchange.request, raw.toString('utf8'), captureJson);
        const { error, value } = parsedJson;
        parsedJson = { error: null, value: undefined };
        if (error !== null) throw error;
        body = value;
      } else {
        body = parseQueryString(raw.toString());
      }
      exchange.deps.limits.chargePublish(exchange, body);
      publishBody(exchange.deps.hub, exchange, body).then(
        (answer) => exchange.published(answer),
        (error: unknown) => exchange.fail(error),
      );
    } catch (error) {
      exchange.fail(error);
    }
  }
}

/** Fastify's error for a body shorter than its Content-Length (FST_ERR_CTP_INVALID_CONTENT_LENGTH), mapped the same way. */
function contentLengthMismatch(): Error {
  return Object.assign(new Error('Request body size did not match Content-Length'), { code: 'FST_ERR_CTP_INVALID_CONTENT_LENGTH', statusCode: 400 });
}
