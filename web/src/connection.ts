// The page's one event stream: the room's topic and its presence, resumed from the
// last event seen. EventSource reconnects by itself after a network error (sending
// Last-Event-ID); when it gives up (the server answered with an error, e.g. 503
// while restarting) this reopens it by hand with `lastEventID`, backing off.

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

export interface ConnectionHandlers {
  onEvent(event: MessageEvent<string>): void;
  onState(state: ConnectionState): void;
  /** The stream is open again after a break: snapshots taken before may be stale. */
  onReopen(): void;
  /** The browser gave up on the stream (an HTTP error, e.g. the session is no longer valid). */
  onRefused(): void;
}

const HUB = '/.well-known/mercure';
const MAX_BACKOFF_MS = 15_000;

export class Connection {
  private source: EventSource | undefined;
  private selectors: string[] = [];
  private lastEventId = '';
  private retryTimer: number | undefined;
  private failures = 0;
  private opened = false;
  /** The stream being replaced by reopen(), until its successor is open. */
  private previous: EventSource | undefined;
  private state: ConnectionState = 'connecting';

  constructor(private readonly handlers: ConnectionHandlers) {
    window.addEventListener('online', () => {
      if (this.source === undefined) {
        if (this.selectors.length > 0) this.reopen();
        return;
      }
      // The stream may have stayed open through a short offline spell: no new 'open'
      // event comes then, so the badge must be set back here.
      this.setState(this.source.readyState === EventSource.OPEN ? 'connected' : 'reconnecting');
    });
    window.addEventListener('offline', () => this.setState('offline'));
  }

  /** Subscribes to `selectors`, receiving what was published after `lastEventId`. */
  open(selectors: string[], lastEventId: string): void {
    this.close();
    this.selectors = selectors;
    this.lastEventId = lastEventId;
    this.opened = false;
    this.failures = 0;
    this.connect('connecting');
  }

  /**
   * Opens a fresh stream at the last event seen (after the session changed), closing
   * the old one only once the new one is open: the person never appears to leave.
   */
  reopen(): void {
    if (this.selectors.length === 0) return;
    const previous = this.source;
    this.source = undefined;
    this.stop();
    this.previous = previous;
    this.connect(previous === undefined ? 'reconnecting' : undefined);
  }

  close(): void {
    this.stop();
    this.selectors = [];
  }

  private stop(): void {
    if (this.retryTimer !== undefined) window.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.source?.close();
    this.source = undefined;
    this.previous?.close();
    this.previous = undefined;
  }

  private connect(state: ConnectionState | undefined): void {
    const params = new URLSearchParams();
    for (const selector of this.selectors) params.append('topic', selector);
    if (this.lastEventId !== '') params.set('lastEventID', this.lastEventId);
    const source = new EventSource(`${HUB}?${params.toString()}`);
    this.source = source;
    if (state !== undefined) this.setState(navigator.onLine ? state : 'offline');
    const receive = (event: MessageEvent<string>) => {
      if (event.lastEventId !== '') this.lastEventId = event.lastEventId;
      // Events arriving prove the stream works, whatever the browser said before.
      if (this.state !== 'connected' && source === this.source) this.setState('connected');
      this.handlers.onEvent(event);
    };
    source.addEventListener('message', receive);
    source.addEventListener('open', () => {
      this.previous?.close();
      this.previous = undefined;
      this.failures = 0;
      this.setState('connected');
      if (this.opened) this.handlers.onReopen();
      this.opened = true;
    });
    source.addEventListener('error', () => {
      if (this.source !== source) return;
      if (source.readyState === EventSource.CONNECTING) {
        this.setState(navigator.onLine ? 'reconnecting' : 'offline');
        return;
      }
      // Closed for good by the browser: try again ourselves, later and later.
      source.close();
      this.source = undefined;
      this.previous?.close();
      this.previous = undefined;
      this.failures++;
      this.setState('offline');
      this.handlers.onRefused();
      const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(this.failures - 1, 5));
      this.retryTimer = window.setTimeout(() => {
        this.retryTimer = undefined;
        this.connect('reconnecting');
      }, delay);
    });
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    this.handlers.onState(state);
  }
}
