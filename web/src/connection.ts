// The page's one event stream (the room's topic, its presence, every room's messages),
// through @herald/client: it resumes from the last event seen after any break, backs
// off, and stops on a refusal (the session's cookie no longer opens the stream), which
// the page answers by signing in again. This module only maps the client's states to
// the badge's, which also knows whether the browser is offline.
import { subscribe, type HeraldEvent, type Subscription } from '../../packages/client/src/index.js';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

export interface ConnectionHandlers {
  onEvent(event: HeraldEvent): void;
  onState(state: ConnectionState): void;
  /** The stream is open again after a break: snapshots taken before may be stale. */
  onReopen(): void;
  /** The hub refused the stream (e.g. the session is no longer valid). */
  onRefused(): void;
}

/** After a refusal the page renews its session; if the stream is still refused, it tries again this much later. */
const REFUSED_RETRY_MS = 5000;

export class Connection {
  private subscription: Subscription | undefined;
  private opens = 0;
  private refusedTimer: number | undefined;

  constructor(private readonly handlers: ConnectionHandlers) {
    window.addEventListener('online', () => this.showState());
    window.addEventListener('offline', () => this.showState());
  }

  /** Subscribes to `selectors`, receiving what was published after `lastEventId`. */
  open(selectors: string[], lastEventId: string): void {
    this.close();
    this.opens = 0;
    const subscription = subscribe(selectors, {
      event: (event) => this.handlers.onEvent(event),
      state: () => this.showState(),
      open: () => {
        if (this.opens++ > 0) this.handlers.onReopen();
      },
      error: (_error, fatal) => {
        if (!fatal || subscription !== this.subscription) return;
        this.handlers.onRefused();
        this.refusedTimer = window.setTimeout(() => subscription.reconnect(), REFUSED_RETRY_MS);
      },
    }, {
      ...(lastEventId === '' ? {} : { lastEventId }),
      // One stream per tab: each tab is a presence of its own, resumed from its own history.
      share: false,
      initialDelayMs: 500,
      maxDelayMs: 5000,
    });
    this.subscription = subscription;
  }

  /** Opens a fresh stream at the last event seen (the session changed); the old one closes once it is open. */
  reopen(): void {
    this.clearRefused();
    this.subscription?.reconnect();
  }

  close(): void {
    this.clearRefused();
    this.subscription?.close();
    this.subscription = undefined;
  }

  private clearRefused(): void {
    if (this.refusedTimer !== undefined) window.clearTimeout(this.refusedTimer);
    this.refusedTimer = undefined;
  }

  private showState(): void {
    const state = this.subscription?.state;
    if (state === undefined) return;
    if (!navigator.onLine || state === 'closed') this.handlers.onState('offline');
    else this.handlers.onState(state === 'open' ? 'connected' : state);
  }
}
