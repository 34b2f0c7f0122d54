// Herald's limits at the HTTP edge, as hooks around the hub's routes: publish rate
// per token or address (429 + Retry-After), open event streams per address (429) and
// in total (503 + Retry-After). Each refusal is a HeraldError, so it gets the usual
// JSON body; each limit reached is logged once per client and minute (LimitLog),
// including those refused elsewhere (body size, topics per update, data size).
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { HeraldError } from '../errors.js';
import { extractCredentials, type TokenRequest } from '../hub/auth/authenticator.js';
import { TokenBuckets, type Clock } from '../edge/token-buckets.js';
import { LimitLog, StreamCounter } from '../edge/limits.js';
import { batchSize } from './batch-fields.js';
import { toHeraldError } from './errors.js';
import { HUB_PATH } from './publish-route.js';

export interface LimitOptions {
  /** Updates per second per publisher, sustained; 0: no limit. */
  readonly publishRate: number;
  /** Updates a publisher may send at once. */
  readonly publishBurst: number;
  /** What a publisher is: its token, or its address (one nginx in front is ONE address). */
  readonly publishRateBy: 'token' | 'ip';
  /** Open event streams per client address; 0: no limit. */
  readonly maxStreamsPerIp: number;
  /** Open event streams in total; 0: no limit. */
  readonly maxStreams: number;
  /** Retry-After of a 503 or a per-address 429. Default 5 s. */
  readonly retryAfterSeconds?: number;
  readonly now?: Clock;
}

export interface Limits {
  readonly streams: StreamCounter;
}

/** The error codes that mean a limit was reached (each is logged once per client and minute). */
const LIMIT_CODES: ReadonlySet<string> = new Set(['payload_too_large', 'rate_limited', 'too_many_connections', 'too_many_items', 'too_many_topics', 'too_many_updates', 'field_too_long']);

export function limitOf(error: unknown): string | undefined {
  const herald = toHeraldError(error);
  return LIMIT_CODES.has(herald.code) ? herald.code : undefined;
}

/** What the limits need of a request, whichever door it came through. */
export interface LimitedRequest extends TokenRequest {
  readonly ip: string;
}

function publishKey(request: LimitedRequest, by: 'token' | 'ip'): string {
  if (by === 'token') {
    let token: string | undefined;
    try {
      token = extractCredentials(request)?.token;
    } catch {
      token = undefined; // malformed credentials: refused by the route; count them by address
    }
    // A digest, not the token: the key lives in memory for a while and must not be a credential.
    if (token !== undefined) return `t:${createHash('sha256').update(token).digest('base64')}`;
  }
  return `ip:${request.ip}`;
}

/** The log every limit reports to: one per server, shared with clientErrorHandler. */
export function createLimitLog(logger: Logger, now: Clock = Date.now): LimitLog {
  return new LimitLog(logger, 60_000, now);
}

/**
 * The edge's limits as plain calls, one instance per server shared by both doors (the
 * Fastify hooks below and the front door), so a client counts once whichever door it uses.
 */
export class EdgeLimits implements Limits {
  readonly streams: StreamCounter;
  private readonly buckets: TokenBuckets | undefined;
  private readonly retryAfter: string;

  constructor(
    private readonly options: LimitOptions,
    private readonly log: LimitLog,
  ) {
    this.retryAfter = String(options.retryAfterSeconds ?? 5);
    this.streams = new StreamCounter(options.maxStreamsPerIp, options.maxStreams);
    this.buckets = options.publishRate > 0 ? new TokenBuckets(options.publishRate, Math.max(1, options.publishBurst), options.now ?? Date.now) : undefined;
  }

  get limitsStreams(): boolean {
    return this.streams.maxPerKey !== 0 || this.streams.maxTotal !== 0;
  }

  get limitsPublishes(): boolean {
    return this.buckets !== undefined;
  }

  /** A slot for one event stream from `ip`; call the release once its response is over. Throws when over a limit. */
  acquireStream(ip: string): () => void {
    const release = this.streams.acquire(ip);
    if (release === 'total') {
      throw new HeraldError('too_many_connections', `The hub holds its maximum of ${this.streams.maxTotal} event streams; retry in ${this.retryAfter} s`, { 'Retry-After': this.retryAfter });
    }
    if (release === 'per-key') {
      throw new HeraldError('rate_limited', `Too many open event streams from this address (at most ${this.streams.maxPerKey}); close one or retry in ${this.retryAfter} s`, { 'Retry-After': this.retryAfter });
    }
    return release;
  }

  /** Charges a publish body (one token per update) to its publisher; throws 429 when it is over its rate. */
  chargePublish(request: LimitedRequest, body: unknown): void {
    if (this.buckets === undefined) return;
    const cost = batchSize(body);
    const decision = this.buckets.take(publishKey(request, this.options.publishRateBy), cost);
    if (!decision.allowed) {
      const s = String(decision.retryAfterSeconds);
      throw new HeraldError('rate_limited', `Publish rate limit: ${this.options.publishRate} updates per second, bursts of ${this.options.publishBurst}${cost > 1 ? ` (this batch has ${cost})` : ''}; retry in ${s} s`, { 'Retry-After': s });
    }
  }

  /** Logs a refusal that is a limit (once per client and minute). */
  noteRefusal(error: unknown, ip: string, method: string, url: string): void {
    const limit = limitOf(error);
    if (limit !== undefined) this.log.note(limit, ip, { method, path: url.split('?')[0]?.slice(0, 200) });
  }
}

export function registerLimits(app: FastifyInstance, limits: EdgeLimits): Limits {
  app.addHook('onError', async (request, _reply, error) => limits.noteRefusal(error, request.ip, request.method, request.url));

  app.addHook('onRequest', async (request, reply) => {
    if ((request.method !== 'GET' && request.method !== 'QUERY') || request.routeOptions.url !== HUB_PATH || !limits.limitsStreams) return;
    // 'close' comes once the response is done, whether it ended, failed or was a stream whose connection closed.
    reply.raw.once('close', limits.acquireStream(request.ip));
  });

  if (limits.limitsPublishes) {
    app.addHook('preHandler', async (request) => {
      if (request.method !== 'POST' || request.routeOptions.url !== HUB_PATH) return;
      limits.chargePublish(request, request.body);
    });
  }
  return limits;
}

/**
 * Fastify's clientErrorHandler: requests Node's parser refuses (malformed, headers over
 * 16 KB) get a JSON reply in Herald's format and the connection is closed. The error is
 * logged without its raw packet, which may hold an Authorization header.
 */
export function clientErrorHandler(log: LimitLog): (error: Error & { code?: string }, socket: Socket) => void {
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const timeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const [status, reason, message] = tooLarge
      ? [431, 'Request Header Fields Too Large', 'The request headers are too large (at most 16 KB)']
      : timeout
        ? [408, 'Request Timeout', 'The request took too long to arrive']
        : [400, 'Bad Request', 'The request is not valid HTTP'];
    if (tooLarge) log.note('header_size', socket.remoteAddress ?? 'unknown');
    const body = JSON.stringify({ error: 'bad_request', message });
    if (socket.writable) {
      socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    }
    socket.destroy();
  };
}
