// Ends event streams whose token has expired: a token is checked once, when the
// stream opens, so without this a stream would outlive its authorization for hours.
// It also ends streams at their maximum lifetime (--max-connection-lifetime, draft 08:
// `exp` cannot revoke an open stream, so a subscriber must come back and present its
// token again); the client resumes with Last-Event-ID, so nothing is lost.
// One shared timer for the whole hub, not one per connection: subscribers are kept
// in buckets of `intervalMs` by expiry time, and each tick takes the buckets whose
// time has come, so a tick costs what expires, not what is connected.
import { guarded, type TimerLog } from '../../timers.js';
import type { Subscriber } from '../fanout/subscriber.js';

export interface TokenExpiryOptions {
  /** Called once per expired subscriber; the hub disconnects it. */
  readonly onExpired: (subscriber: Subscriber) => void;
  /** Bucket width and tick period. Default 1000 ms: a stream ends within a second of its `exp`. */
  readonly intervalMs?: number;
  readonly now?: () => number;
  /** Where a failing sweep is reported. */
  readonly log?: TimerLog;
}

/** Share of a lifetime spread at random, so streams opened together (a reconnect storm) do not end together. */
export const LIFETIME_JITTER = 0.1;

/** When a stream opened at `openedAt` ends: somewhere in the last LIFETIME_JITTER of its lifetime (`random` in [0, 1)). */
export function lifetimeEnd(openedAt: number, lifetimeMs: number, random: number = Math.random()): number {
  return openedAt + Math.round(lifetimeMs * (1 - LIFETIME_JITTER * random));
}

export class TokenExpiry {
  private readonly buckets = new Map<number, Set<Subscriber>>();
  private readonly bucketOf = new Map<Subscriber, number>();
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly onExpired: (subscriber: Subscriber) => void;
  private readonly log: TimerLog | undefined;
  /** Every bucket up to this one has been swept. */
  private swept: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: TokenExpiryOptions) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.now = options.now ?? Date.now;
    this.onExpired = options.onExpired;
    this.log = options.log;
    this.swept = Math.floor(this.now() / this.intervalMs);
  }

  /** Subscribers tracked (those whose token carries `exp`). */
  get size(): number {
    return this.bucketOf.size;
  }

  /**
   * Starts watching a subscriber until its token's `exp` or `endsAt` (its lifetime's
   * end, lifetimeEnd), whichever comes first; one with neither is ignored.
   */
  track(subscriber: Subscriber, endsAt?: number): void {
    const exp = subscriber.claims?.expiresAt;
    const expiresAt = exp === undefined ? endsAt : endsAt === undefined ? exp : Math.min(exp, endsAt);
    if (expiresAt === undefined || this.bucketOf.has(subscriber)) return;
    // Idle (nothing tracked, no timer): skip the empty buckets the timer did not visit.
    if (this.bucketOf.size === 0) this.swept = Math.max(this.swept, Math.floor(this.now() / this.intervalMs));
    // Never before its exp (ceil), and never in a bucket already swept (already expired: next tick).
    const bucket = Math.max(Math.ceil(expiresAt / this.intervalMs), this.swept + 1);
    let set = this.buckets.get(bucket);
    if (set === undefined) this.buckets.set(bucket, (set = new Set()));
    set.add(subscriber);
    this.bucketOf.set(subscriber, bucket);
    if (this.timer === undefined) {
      this.timer = setInterval(guarded('token expiry sweep', () => this.sweep(), this.log), this.intervalMs);
      this.timer.unref();
    }
  }

  untrack(subscriber: Subscriber): void {
    const bucket = this.bucketOf.get(subscriber);
    if (bucket === undefined) return;
    this.bucketOf.delete(subscriber);
    const set = this.buckets.get(bucket);
    set?.delete(subscriber);
    if (set?.size === 0) this.buckets.delete(bucket);
    if (this.bucketOf.size === 0) this.stopTimer();
  }

  /** Expires every subscriber whose bucket time has come; returns how many. Called by the timer. */
  sweep(): number {
    const current = Math.floor(this.now() / this.intervalMs);
    let expired = 0;
    // Consecutive buckets: a tick normally visits one; after a stall, one per missed interval.
    for (let bucket = this.swept + 1; bucket <= current; bucket++) {
      const set = this.buckets.get(bucket);
      if (set === undefined) continue;
      this.buckets.delete(bucket);
      for (const subscriber of set) {
        this.bucketOf.delete(subscriber);
        expired++;
        this.onExpired(subscriber);
      }
    }
    this.swept = Math.max(this.swept, current);
    if (this.bucketOf.size === 0) this.stopTimer();
    return expired;
  }

  stop(): void {
    this.stopTimer();
    this.buckets.clear();
    this.bucketOf.clear();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
