// One HTTP event stream read with fetch (not EventSource): it can send an
// Authorization header, read the status and headers of the answer, and tell a refusal
// (401, 403, other 4xx: retrying cannot help) from a failure worth retrying.
import { errorFromResponse, HeraldClientError } from './errors.js';
import { SseParser, type ParsedEvent } from './sse-parser.js';

export interface StreamRequest {
  readonly url: string;
  readonly token?: string;
  /** Sent as the `lastEventID` query parameter (no preflight, unlike a Last-Event-ID header). */
  readonly lastEventId?: string;
  /** Send cookies to another origin too (fetch `credentials: 'include'`). */
  readonly withCredentials: boolean;
  readonly fetch: typeof fetch;
  readonly maxEventLength?: number;
}

export interface StreamCallbacks {
  open(response: Response): void;
  /** Any bytes at all (an event, a heartbeat comment): the connection is alive. */
  bytes(): void;
  event(event: ParsedEvent): void;
  retry(ms: number): void;
}

export type StreamEnd =
  | { readonly kind: 'closed' }
  /** The server ended the stream, or the connection failed: reconnect. */
  | { readonly kind: 'failed'; readonly error: HeraldClientError }
  /** The server refused the request for a reason a retry cannot fix (401, 403, 400, 404). */
  | { readonly kind: 'refused'; readonly error: HeraldClientError };

export class EventStream {
  readonly ended: Promise<StreamEnd>;
  private readonly abort = new AbortController();

  constructor(request: StreamRequest, callbacks: StreamCallbacks) {
    this.ended = this.run(request, callbacks).catch((error: unknown): StreamEnd => {
      if (this.abort.signal.aborted) return { kind: 'closed' };
      // Whatever failed (the network, an event past the parser's bound), the body must not stay open.
      this.abort.abort();
      return { kind: 'failed', error: networkError(error) };
    });
  }

  close(): void {
    this.abort.abort();
  }

  private async run(request: StreamRequest, callbacks: StreamCallbacks): Promise<StreamEnd> {
    const url = new URL(request.url);
    if (request.lastEventId !== undefined && request.lastEventId !== '') url.searchParams.set('lastEventID', request.lastEventId);
    const headers: Record<string, string> = { Accept: 'text/event-stream' };
    if (request.token !== undefined) headers.Authorization = `Bearer ${request.token}`;
    const response = await request.fetch(url, {
      headers,
      cache: 'no-store',
      credentials: request.withCredentials ? 'include' : 'same-origin',
      signal: this.abort.signal,
    });
    if (response.status === 204) {
      // The SSE spec's way for a server to say "do not reconnect".
      return { kind: 'refused', error: new HeraldClientError('unexpected_response', 'HTTP 204: the server asks not to reconnect', 204) };
    }
    if (!response.ok) {
      const error = await errorFromResponse(response);
      return { kind: error.transient ? 'failed' : 'refused', error };
    }
    const type = response.headers.get('content-type') ?? '';
    if (!/^text\/event-stream\b/i.test(type) || response.body === null) {
      await response.body?.cancel().catch(() => undefined);
      return { kind: 'failed', error: new HeraldClientError('unexpected_response', `not an event stream: ${type || 'no content type'}`, response.status) };
    }
    callbacks.open(response);
    const parser = new SseParser({ event: (e) => callbacks.event(e), retry: (ms) => callbacks.retry(ms) }, request.lastEventId, request.maxEventLength);
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      callbacks.bytes();
      parser.push(decoder.decode(value, { stream: true }));
    }
    if (this.abort.signal.aborted) return { kind: 'closed' };
    return { kind: 'failed', error: new HeraldClientError('network', 'the server ended the stream') };
  }
}

function networkError(error: unknown): HeraldClientError {
  return error instanceof HeraldClientError ? error : new HeraldClientError('network', error instanceof Error ? error.message : String(error));
}
