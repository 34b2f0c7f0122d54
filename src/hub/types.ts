// The hub's public vocabulary: what it is built from, what a subscription asks and
// gets, what it reports. hub.ts re-exports all of it; code outside src/hub/ imports hub.ts.
import type { Logger } from 'pino';
import type { Broker, HistoryQuery, Update } from '../broker/types.js';
import type { Authenticator, Claims } from './auth/authenticator.js';
import type { DispatchStats } from './fanout/dispatcher.js';
import type { Subscriber, SubscriberSink } from './fanout/subscriber.js';
import type { SubscriptionsFormat } from './presence.js';
import type { MatcherSet } from './topics/selectors.js';

/**
 * What the hub takes from the configuration. The names are Config's (src/config.ts), so
 * herald.ts hands its Config over as is: a new hub option is a row in config.ts's table
 * and a field here, nothing in between.
 */
export interface HubSettings {
  /** The hub's public URL: relative topics resolve against it (--public-url). */
  readonly publicUrl: string;
  readonly anonymous: boolean;
  /** 0: no heartbeats. */
  readonly heartbeatSeconds: number;
  readonly replayMax: number;
  /** Most matching steps per topic character a subscription's selectors may cost (MatcherSet.cost); absent: no bound. */
  readonly maxSelectorCost?: number;
  /** Bytes queued for one subscriber before it is too slow (also bounds a replay's pages and held updates). */
  readonly subscriberBuffer: number;
  /** Most topics of one update, and most selectors of one subscription. */
  readonly maxTopics: number;
  /** Largest data of one update, in bytes. */
  readonly dataLimit: number;
  /** Publish Mercure subscription events (presence) on connect and disconnect. */
  readonly subscriptions: boolean;
  /** Their shape, and the subscriptions API's: draft 08, 0.x, or both (absent: 0.x). */
  readonly subscriptionsFormat?: SubscriptionsFormat;
  /** Most presence records one subscriptions API collection request examines (absent: 10 000). */
  readonly subscriptionsScan?: number;
  /** An SSE `retry:` (ms) at the start of every stream; 0 or absent: none (the client's default). */
  readonly retryMs?: number;
  /** Seconds a stream may stay open whatever its token's `exp` (less up to 10% jitter); 0 or absent: no limit. */
  readonly maxConnectionLifetimeSeconds?: number;
}

export interface HubOptions {
  readonly broker: Broker;
  /** Verifies tokens; undefined when no key is configured (then no token is accepted). */
  readonly authenticator: Authenticator | undefined;
  readonly settings: HubSettings;
  readonly logger: Logger;
  /** Period of the sweep that ends streams whose token expired. Default 1000 ms. */
  readonly tokenSweepMs?: number;
}

/** The fan-out's counters since start, and what is open now. */
export interface HubStats extends DispatchStats {
  /** Open streams (subscribers). */
  readonly connections: number;
  /** Topic selectors of the open streams (one Mercure subscription each). */
  readonly subscriptions: number;
}

/** What /readyz says: whether the store answers, and which store it is. */
export interface Readiness {
  readonly ready: boolean;
  readonly store: string;
}

/** Called once per flush, after the writes, with the updates written (in log order). */
export type FlushListener = (flushed: readonly { readonly update: Update }[]) => void;

/** A history read that says how much of the log it may examine: the hub serves no unbounded scan. */
export type BoundedHistoryQuery = HistoryQuery & { readonly maxScan: number };

export interface SubscribeRequest {
  /** The selectors as the subscriber wrote them, in order (one presence record each). */
  readonly matchers: MatcherSet;
  readonly claims: Claims | undefined;
  /** Absent: live updates only; 'earliest': every kept update first; else those after this id. */
  readonly lastEventId: string | undefined;
  readonly sink: SubscriberSink;
}

export interface SubscriptionStart {
  readonly subscriber: Subscriber;
  /**
   * For the (Mercure-)Last-Event-ID response header: the id preceding the first event
   * sent (without a requested id: the newest known), or 'earliest' when nothing precedes it.
   */
  readonly lastEventId: string;
  /** The replay stops at --replay-max: older matches are not sent (Herald-Replay-Truncated). */
  readonly replayTruncated: boolean;
  /**
   * Starts writing the replay (page by page), then the held live updates; call once the
   * response headers are out. Resolves when the replay is over (written, or the stream
   * ended); never rejects.
   */
  begin(): Promise<void>;
}
