// One tab's (or one Node process's) own stream to the hub, kept alive: reconnects
// with backoff from the last id, stops on a refusal, renews the token before it
// expires (the new stream opens from the last id before the old one is closed, so
// nobody appears to leave and the overlap is deduplicated by the delivery), and
// treats a silent connection as dead after `idleTimeoutMs`.
import { Backoff } from './backoff.js';
import { HeraldClientError } from './errors.js';
import { parseGap, type Outlet } from './delivery.js';
import type { ParsedEvent } from './sse-parser.js';
import { EventStream, type StreamEnd } from './stream.js';
import { expiresAt, renewalDelay, resolveToken } from './token.js';
import type { ConnectionOptions } from './types.js';

export const GAP_EVENT = 'herald-gap';

type Timer = ReturnType<typeof setTimeout>;

export class DirectConnection {
  private readonly backoff: Backoff;
  private current: EventStream | undefined;
  /** The stream a renewal replaces, until its successor is open. */
  private previous: EventStream | undefined;
  private retryTimer: Timer | undefined;
  private renewTimer: Timer | undefined;
  private idleTimer: Timer | undefined;
  private closed = false;
  private readonly opened = new WeakSet<EventStream>();
  /** Bumped by every connect: a late answer for an older attempt is dropped. */
  private attempt = 0;
  private readonly onOnline = (): void => {
    if (this.retryTimer !== undefined) this.reconnect();
  };

  constructor(
    private readonly url: string,
    private readonly options: ConnectionOptions,
    private readonly outlet: Outlet,
  ) {
    this.backoff = new Backoff(options);
    globalThis.addEventListener?.('online', this.onOnline);
    void this.connect(false);
  }

  /** A working stream stays until its successor is open (e.g. new credentials: no one appears to leave). */
  reconnect(): void {
    if (this.closed) return;
    const open = this.current !== undefined && this.opened.has(this.current);
    if (open) {
      for (const timer of [this.retryTimer, this.renewTimer]) if (timer !== undefined) clearTimeout(timer);
      this.retryTimer = this.renewTimer = undefined;
      this.previous?.close();
      void this.connect(true);
      return;
    }
    this.stopStreams();
    void this.connect(false);
  }

  close(): void {
    this.closed = true;
    this.stopStreams();
    globalThis.removeEventListener?.('online', this.onOnline);
    this.outlet.state('closed');
  }

  private stopStreams(): void {
    for (const timer of [this.retryTimer, this.renewTimer, this.idleTimer]) if (timer !== undefined) clearTimeout(timer);
    this.retryTimer = this.renewTimer = this.idleTimer = undefined;
    this.current?.close();
    this.previous?.close();
    this.current = this.previous = undefined;
  }

  /** `renewing`: keep the open stream until the new one is open. */
  private async connect(renewing: boolean): Promise<void> {
    const attempt = ++this.attempt;
    let token: string | undefined;
    try {
      token = await resolveToken(this.options.token);
    } catch (error) {
      if (attempt !== this.attempt || this.closed) return;
      this.outlet.error(new HeraldClientError('token_unavailable', `getToken failed: ${error instanceof Error ? error.message : String(error)}`), false);
      this.retryLater(0);
      return;
    }
    if (attempt !== this.attempt || this.closed) return;
    this.previous?.close();
    this.previous = renewing ? this.current : undefined;
    if (!renewing) this.current?.close();
    const stream = new EventStream(
      {
        url: this.url,
        ...(token === undefined ? {} : { token }),
        ...(this.outlet.lastEventId === undefined ? {} : { lastEventId: this.outlet.lastEventId }),
        withCredentials: this.options.withCredentials ?? false,
        fetch: this.options.fetch ?? globalThis.fetch.bind(globalThis),
        ...(this.options.maxEventLength === undefined ? {} : { maxEventLength: this.options.maxEventLength }),
      },
      {
        open: (response) => {
          if (stream !== this.current) return;
          this.opened.add(stream);
          this.previous?.close();
          this.previous = undefined;
          this.backoff.succeeded();
          this.armIdle();
          this.scheduleRenewal(token);
          this.outlet.state('open');
          this.outlet.open({ lastEventId: response.headers.get('last-event-id'), leader: true });
        },
        bytes: () => {
          if (stream === this.current) this.armIdle();
        },
        event: (event) => {
          if (stream === this.current || stream === this.previous) this.receive(event);
        },
        retry: (ms) => {
          this.backoff.baseMs = ms;
        },
      },
    );
    this.current = stream;
    // Also while waiting for the answer's head: a connection can go silent before it.
    this.armIdle();
    void stream.ended.then((end) => this.ended(stream, end));
  }

  private receive(event: ParsedEvent): void {
    if (event.type === GAP_EVENT && !event.hasId) {
      const gap = parseGap(event.data);
      if (gap !== undefined) return this.outlet.gap(gap);
    }
    const id = event.hasId ? event.lastEventId : '';
    this.outlet.event(event.hasId && id === '' ? { id, resetsId: true, type: event.type, data: event.data } : { id, type: event.type, data: event.data });
  }

  private ended(stream: EventStream, end: StreamEnd): void {
    if (stream === this.previous) {
      this.previous = undefined;
      return;
    }
    if (stream !== this.current || this.closed || end.kind === 'closed') return;
    this.current = undefined;
    this.previous?.close();
    this.previous = undefined;
    if (end.kind === 'refused') {
      this.stopStreams();
      this.outlet.error(end.error, true);
      this.outlet.state('closed');
      return;
    }
    this.outlet.error(end.error, false);
    const retryAfter = end.error.details.retryAfterMs;
    this.retryLater(typeof retryAfter === 'number' ? retryAfter : 0);
  }

  private retryLater(atLeastMs: number): void {
    for (const timer of [this.renewTimer, this.idleTimer]) if (timer !== undefined) clearTimeout(timer);
    this.renewTimer = this.idleTimer = undefined;
    this.outlet.state('reconnecting');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect(false);
    }, this.backoff.next(atLeastMs));
  }

  private armIdle(): void {
    const window = this.options.idleTimeoutMs ?? 45_000;
    if (window <= 0) return;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      const stream = this.current;
      if (stream === undefined) return;
      // Half-open: the socket looks fine but nothing arrives. Drop it and resume.
      this.current = undefined;
      stream.close();
      this.previous?.close();
      this.previous = undefined;
      this.outlet.error(new HeraldClientError('network', `no byte for ${window} ms`), false);
      this.retryLater(0);
    }, window);
  }

  private scheduleRenewal(token: string | undefined): void {
    if (this.renewTimer !== undefined) clearTimeout(this.renewTimer);
    this.renewTimer = undefined;
    const exp = token === undefined ? undefined : expiresAt(token);
    if (exp === undefined || typeof this.options.token !== 'function') return;
    this.renewTimer = setTimeout(() => {
      this.renewTimer = undefined;
      void this.connect(true);
    }, renewalDelay(exp, Date.now(), this.options.renewLeadMs ?? 30_000));
  }
}
