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
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
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
import { withResourceMetadata } from './resource-metadata.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { openStream, type StreamDoor } from './subscribe-route.js';

export interface FrontDoorDeps {
  readonly hub: Hub;
  readonly limits: EdgeLimits;
  readonly csrf: OriginPolicy;
  /** The server's one request-id generator (Fastify's genReqId too). */
  readonly requestId: (request: Pick<IncomingMessage, 'headers'>) => string;
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
  /** The protected resource metadata URL a Bearer challenge names (resource-metadata.ts). */
  readonly metadataUrl: string;
}

type Listener = (request: IncomingMessage, response: ServerResponse) => void;

/** The fields of a request both doors read (an IncomingMessage has them; the raw door, src/http/wire/, builds them). */
export interface DoorRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly httpVersionMajor: number;
  readonly socket: Socket;
  readonly destroyed: boolean;
}

const EMPTY: FieldBag = Object.freeze({}) as FieldBag;
const NO_COOKIES: Record<string, string | undefined> = Object.freeze({}) as Record<string, string | undefined>;
const SECURITY_PAIRS: readonly string[] = Object.entries(SECURITY_HEADERS).flat();

/**
 * One request through a door: the view every shared function reads, the route's
 * steps, and the failure and success replies. A door supplies how a reply is
 * written and how the socket is handed to a stream.
 */
export abstract class Exchange implements StreamDoor {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  readonly query: FieldBag;
  readonly cookies: Record<string, string | undefined>;
  readonly ip: string;
  /** This request's id (in log lines); echoed as X-Request-Id only with observability on, as Fastify's hook does. */
  readonly requestId: string;
  readonly id: string | undefined;
  /** The stream slot (--max-subscriptions-per-ip, --max-connections), released when the response or stream is over. */
  releaseSlot: (() => void) | undefined;
  /** Set once a stream owns the socket: no reply may be written after that. */
  tookOver = false;

  constructor(
    readonly door: FrontDoor,
    readonly deps: FrontDoorDeps,
    readonly request: DoorRequest,
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

  /** TokenRequest: Node's request, whose rawHeaders show a repeated Authorization header (the raw door hands those to Node). */
  get raw(): { readonly rawHeaders?: readonly string[] } {
    return this.request as { readonly rawHeaders?: readonly string[] };
  }

  /** Writes a whole reply (unless one was written or the connection is gone). */
  abstract reply(status: number, type: string, body: string, extra: Readonly<Record<string, string>> | undefined): void;
  /** StreamDoor: the head is on the socket; the door lets go of what the stream does not need. */
  abstract streaming(socket: Socket): void;
  /** Gives the stream slot back when this exchange's response is over. */
  protected abstract holdSlot(release: () => void): void;

  /** StreamDoor: the stream head carries the headers Fastify's onRequest hooks would have set. */
  takeOver(): Record<string, string> {
    this.tookOver = true;
    return this.id === undefined ? {} : { [REQUEST_ID_HEADER]: this.id };
  }

  /** The route's first steps: the CSRF guard, then a GET opens its stream. True when a POST's body is to be read next. */
  start(): boolean {
    const deps = this.deps;
    try {
      checkCsrf(this, deps.csrf);
      if (this.method !== 'GET') return true;
      if (deps.limits.limitsStreams) {
        this.releaseSlot = deps.limits.acquireStream(this.ip);
        this.holdSlot(this.releaseSlot);
      }
      // HTTP/1 only: openStream writes to the socket and never touches a response object.
      openStream(deps.hub, this, this.request as IncomingMessage, undefined as unknown as ServerResponse, this, deps.streamHeaders).catch((error: unknown) => this.fail(error));
    } catch (error) {
      this.fail(error);
    }
    return false;
  }

  /** A POST's whole body (decoded as UTF-8): parsed as Fastify's parsers would, charged to the rate limit, published. */
  publish(text: string): void {
    try {
      const deps = this.deps;
      let body: unknown;
      if (BODY_TYPES.get((this.headers['content-type'] as string).toLowerCase()) === 'json') {
        deps.parseJson(this.request as IncomingMessage, text, captureJson);
        const { error, value } = parsedJson;
        parsedJson = { error: null, value: undefined };
        if (error !== null) throw error;
        body = value;
      } else {
        body = parseQueryString(text);
      }
      deps.limits.chargePublish(this, body);
      const answer = publishBody(deps.hub, this, body);
      // A cached token and the memory store answer at once: no promise, no closures.
      if (!(answer instanceof Promise)) this.published(answer);
      else
        answer.then(
          (reply) => this.published(reply),
          (error: unknown) => this.fail(error),
        );
    } catch (error) {
      this.fail(error);
    }
  }

  /** The reply's header pairs before Node's own (Date, Connection): request id, extra, type, security, length. */
  protected headerPairs(type: string, body: string, extra: Readonly<Record<string, string>> | undefined): string[] {
    const pairs: string[] = [];
    if (this.id !== undefined) pairs.push(REQUEST_ID_HEADER, this.id);
    if (extra !== undefined) for (const name in extra) pairs.push(name, extra[name]!);
    pairs.push('content-type', type, ...SECURITY_PAIRS, 'content-length', String(Buffer.byteLength(body)));
    return pairs;
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
    else this.reply(failure.error.status, JSON_TYPE, JSON.stringify(errorBody(failure.error)), withResourceMetadata(failure.error.headers, deps.metadataUrl));
  }

  published(answer: { type: string; body: string }): void {
    this.reply(200, answer.type, answer.body, undefined);
  }
}

/** A request through the node:http listener: Node's request and response objects. */
class NodeExchange extends Exchange {
  chunks: Buffer[] | undefined;
  received = 0;
  expected = 0;

  constructor(
    door: FrontDoor,
    deps: FrontDoorDeps,
    readonly incoming: IncomingMessage,
    readonly response: ServerResponse,
    queryText: string,
  ) {
    super(door, deps, incoming, queryText);
  }

  protected holdSlot(release: () => void): void {
    this.response.once('close', release);
  }

  /** Node's request, response and parser are let go; the stream's slot now ends with the socket. */
  streaming(socket: Socket): void {
    if (!releaseHttpState(this.incoming, this.response, socket)) return;
    this.door.stats.released++;
    if (this.releaseSlot !== undefined) {
      this.response.removeListener('close', this.releaseSlot);
      socket.once('close', this.releaseSlot);
    }
  }

  reply(status: number, type: string, body: string, extra: Readonly<Record<string, string>> | undefined): void {
    const response = this.response;
    if (response.headersSent || response.destroyed) return;
    response.writeHead(status, this.headerPairs(type, body, extra));
    response.end(body);
    if (this.method === 'POST') this.deps.telemetry?.publishAnswered(status);
  }

  /** Reads the body with listeners shared by every request (no closures per publish). */
  readBody(): void {
    const request = this.incoming as ExchangeRequest;
    this.expected = Number(request.headers['content-length']);
    request[EXCHANGE] = this;
    request.on('data', onBodyData);
    request.once('end', onBodyEnd);
    request.once('error', onBodyError);
  }

  bodyRead(): void {
    if (this.received !== this.expected) {
      this.fail(contentLengthMismatch());
      return;
    }
    const chunks = this.chunks ?? [];
    this.publish((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.received)).toString('utf8'));
  }
}

const EXCHANGE = Symbol('frontDoorExchange');
type ExchangeRequest = IncomingMessage & { [EXCHANGE]?: NodeExchange };

function onBodyData(this: ExchangeRequest, chunk: Buffer): void {
  const exchange = this[EXCHANGE]!;
  exchange.received += chunk.length;
  (exchange.chunks ??= []).push(chunk);
}

function onBodyEnd(this: ExchangeRequest): void {
  const exchange = this[EXCHANGE]!;
  this[EXCHANGE] = undefined;
  this.removeListener('error', onBodyError);
  exchange.bodyRead();
}

function onBodyError(this: ExchangeRequest, error: Error & { statusCode?: number }): void {
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

  /** The deps while this door serves; undefined before configure and once closing (Fastify then answers). */
  active(): FrontDoorDeps | undefined {
    return this.closing ? undefined : this.deps;
  }

  /** The node:http request listener: this door's routes, else Fastify's handler. */
  listener(fallback: Listener): Listener {
    return (request, response) => {
      const deps = this.active();
      const queryText = deps === undefined ? undefined : recognise(request, deps);
      if (queryText === undefined) {
        this.stats.handedOn++;
        fallback(request, response);
        return;
      }
      this.stats.served++;
      const exchange = new NodeExchange(this, deps!, request, response, queryText);
      if (exchange.start()) exchange.readBody();
    };
  }
}

/** Fastify's error for a body shorter than its Content-Length (FST_ERR_CTP_INVALID_CONTENT_LENGTH), mapped the same way. */
function contentLengthMismatch(): Error {
  return Object.assign(new Error('Request body size did not match Content-Length'), { code: 'FST_ERR_CTP_INVALID_CONTENT_LENGTH', statusCode: 400 });
}
