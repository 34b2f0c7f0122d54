// One stream for all the tabs of an origin that follow the same selectors: the tab
// holding a Web Lock (the leader) runs the stream and posts what it delivers on a
// BroadcastChannel; the others deliver what it posts. When the leader goes (closed,
// crashed, navigated away) the browser hands the lock to the next tab, which resumes
// from the last id it delivered; anything shared twice around the hand-over is dropped
// by the delivery's recent ids.
import { DirectConnection } from './direct.js';
import type { Delivery, Outlet, WireEvent } from './delivery.js';
import type { HeraldClientError } from './errors.js';
import type { ConnectionState, EventMap, Gap, OpenInfo, ConnectionOptions } from './types.js';

type Message =
  | { readonly t: 'event'; readonly e: WireEvent }
  | { readonly t: 'gap'; readonly g: Gap }
  | { readonly t: 'state'; readonly s: ConnectionState }
  | { readonly t: 'open' }
  | { readonly t: 'hello' };

interface Locks {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<unknown>;
}

function locks(): Locks | undefined {
  const nav = (globalThis as { navigator?: { locks?: Locks } }).navigator;
  return typeof nav?.locks?.request === 'function' ? nav.locks : undefined;
}

/** Whether this runtime can share a stream among tabs. */
export function canShare(): boolean {
  return locks() !== undefined && typeof BroadcastChannel === 'function';
}

export class SharedConnection<M extends EventMap> {
  private readonly channel: BroadcastChannel;
  private direct: DirectConnection | undefined;
  private release: (() => void) | undefined;
  private waiting: AbortController | undefined;
  private closed = false;
  /** Refused with this tab's credentials: deaf to the others until reconnect(). */
  private refused = false;
  private leading = false;
  private leaderState: ConnectionState = 'connecting';

  constructor(
    private readonly name: string,
    private readonly url: string,
    private readonly options: ConnectionOptions,
    private readonly delivery: Delivery<M>,
  ) {
    this.channel = new BroadcastChannel(name);
    this.channel.onmessage = (message: MessageEvent<Message>) => this.message(message.data);
    this.post({ t: 'hello' });
    this.requestLock();
  }

  get leader(): boolean {
    return this.leading;
  }

  reconnect(): void {
    if (this.closed) return;
    this.refused = false;
    if (this.direct !== undefined) this.direct.reconnect();
    else if (this.waiting === undefined && this.release === undefined) this.requestLock();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stepDown();
    this.waiting?.abort();
    this.channel.close();
    this.delivery.state('closed');
  }

  private requestLock(): void {
    const waiting = new AbortController();
    this.waiting = waiting;
    locks()!
      .request(this.name, { signal: waiting.signal }, () => new Promise<void>((resolve) => {
        this.waiting = undefined;
        this.release = resolve;
        if (this.closed) return this.stepDown();
        this.lead();
      }))
      .catch(() => undefined);
  }

  private lead(): void {
    this.leading = true;
    const delivery = this.delivery;
    const outlet: Outlet = {
      get lastEventId() {
        return delivery.lastEventId;
      },
      event: (event) => {
        if (!delivery.event(event)) return false;
        this.post({ t: 'event', e: event });
        return true;
      },
      gap: (gap) => {
        delivery.gap(gap);
        this.post({ t: 'gap', g: gap });
      },
      state: (state) => {
        // A leader that closes hands over: to the others the stream is only changing hands.
        this.leaderState = state === 'closed' ? 'reconnecting' : state;
        this.post({ t: 'state', s: this.leaderState });
        if (state !== 'closed') delivery.state(state);
      },
      open: (info: OpenInfo) => {
        delivery.open(info);
        this.post({ t: 'open' });
      },
      error: (error: HeraldClientError, fatal: boolean) => {
        delivery.error(error, fatal);
        // Refused with this tab's credentials: let another tab try with its own.
        if (fatal) {
          this.refused = true;
          this.stepDown();
          delivery.state('closed');
        }
      },
    };
    this.direct = new DirectConnection(this.url, this.options, outlet);
  }

  private stepDown(): void {
    const direct = this.direct;
    this.direct = undefined;
    this.leading = false;
    direct?.close();
    this.release?.();
    this.release = undefined;
  }

  private message(message: Message): void {
    if (this.closed || this.refused) return;
    switch (message.t) {
      case 'event':
        // Also in a new leader: what the old one shared before it went may arrive late.
        this.delivery.event(message.e);
        break;
      case 'gap':
        this.delivery.gap(message.g);
        break;
      case 'state':
        if (!this.leading) this.delivery.state(message.s);
        break;
      case 'open':
        if (!this.leading) this.delivery.open({ lastEventId: null, leader: false });
        break;
      case 'hello':
        if (this.leading) this.post({ t: 'state', s: this.leaderState });
        break;
    }
  }

  private post(message: Message): void {
    this.channel.postMessage(message);
  }
}
