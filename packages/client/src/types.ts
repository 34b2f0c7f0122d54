// The shapes an application sees: selectors, events, gaps, states and options.
import type { BackoffOptions } from './backoff.js';
import type { HeraldClientError } from './errors.js';
import type { TokenSource } from './token.js';

/**
 * What to follow: a string is a Mercure `topic` selector (an exact topic, `*`, or an
 * RFC 6570 template); the objects are Mercure 1.0 exact matches and URL patterns.
 */
export type Selector = string | { readonly topic: string } | { readonly match: string } | { readonly urlPattern: string };

/** Event types to the type of their decoded data; `message` is the untyped default. */
export type EventMap = Record<string, unknown>;

export interface HeraldEvent<T = string> {
  /** The event's own id ('' when the hub sent none). */
  readonly id: string;
  readonly type: string;
  /** The data, decoded by `decode` (the raw text without one). */
  readonly data: T;
  /** The text as it came over the wire. */
  readonly raw: string;
}

/** The hub's in-band `herald-gap` event: what was asked for cannot be replayed in full. */
export interface Gap {
  /** `unknown_id`: the hub does not know the id (too old, or another hub's); `replay_cut`: the replay was bounded. */
  readonly reason: 'unknown_id' | 'replay_cut';
  /** The id this client resumed from. */
  readonly lastEventId: string;
  /** The first event sent next, or null when nothing follows yet. */
  readonly resumeFrom: string | null;
}

/**
 * `connecting` before the first open; `open` while events can flow; `reconnecting`
 * while waiting to retry; `closed` after close() or a refusal (see `error`).
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface OpenInfo {
  /** The hub's `Last-Event-ID` response header: where the stream starts (null in a follower tab). */
  readonly lastEventId: string | null;
  /** Whether this tab holds the stream (false: events come from the tab that does). */
  readonly leader: boolean;
}

export interface Handlers<M extends EventMap = { message: string }> {
  /** Every event, whatever its type (after `on`'s handler for its type, if any). */
  readonly event?: (event: HeraldEvent<M[keyof M]>) => void;
  /** Per event type, typed by the map. */
  readonly on?: { readonly [K in keyof M]?: (event: HeraldEvent<M[K]>) => void };
  readonly gap?: (gap: Gap) => void;
  readonly state?: (state: ConnectionState) => void;
  readonly open?: (info: OpenInfo) => void;
  /**
   * A failure. `fatal` errors (401, 403, 400, 404: retrying cannot help) close the
   * subscription, call `reconnect()` once the cause is fixed; others are followed by a retry.
   */
  readonly error?: (error: HeraldClientError, fatal: boolean) => void;
}

/** Where the last event id is kept across page loads (localStorage has this shape). */
export interface IdStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface SubscribeOptions<M extends EventMap = { message: string }> extends BackoffOptions {
  /** The hub's URL. Default `/.well-known/mercure` of the page's origin (required in Node). */
  readonly hub?: string | URL;
  /** Bearer token (sent in the Authorization header), or a function fetching a fresh one on each connect. Without it, cookies authenticate. */
  readonly token?: TokenSource;
  /** Renew a token at most this long before its `exp` (and a fifth of its life at most). Default 30000. */
  readonly renewLeadMs?: number;
  /** Send cookies cross-origin too. Default false. */
  readonly withCredentials?: boolean;
  /** Resume after this id (`earliest`: all the hub's history). Default: the stored id, else live only. */
  readonly lastEventId?: string;
  /** Keep the last id across page loads: true (localStorage) or a storage, under `storageKey`. */
  readonly persist?: boolean | IdStorage;
  readonly storageKey?: string;
  /** No byte (event or heartbeat) for this long means the connection is dead: reconnect. Default 45000 (the hub's heartbeat is 15 s); 0 disables. */
  readonly idleTimeoutMs?: number;
  /** Characters one event may hold; a longer one drops the connection (a hub gone wrong cannot fill the memory). Default 16 Mi. */
  readonly maxEventLength?: number;
  /** Share one stream among the tabs of an origin (Web Locks + BroadcastChannel). Default: where both exist. */
  readonly share?: boolean;
  /** Turns the data of an event into its typed form, e.g. JSON.parse. Default: the text. */
  readonly decode?: (data: string, type: string) => M[keyof M];
  /** The fetch to use (tests, proxies). */
  readonly fetch?: typeof fetch;
}

export interface Subscription {
  readonly state: ConnectionState;
  /** The id of the last event delivered (undefined before the first). */
  readonly lastEventId: string | undefined;
  /** Whether this tab holds the stream (always true without sharing). */
  readonly leader: boolean;
  /**
   * Reopens now from the last id: after a refusal (once its cause is fixed), or to use new
   * credentials (a new cookie): an open stream is closed only once its successor is open.
   */
  reconnect(): void;
  close(): void;
}

/** What the connection needs of the options (decoding is the delivery's). */
export type ConnectionOptions = Omit<SubscribeOptions, 'decode'>;
