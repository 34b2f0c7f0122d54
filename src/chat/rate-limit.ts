// The chat's send limit per person, with the chat's defaults (5 a second, bursts of 10),
// on Herald's one token bucket (src/edge/token-buckets.ts).
import { TokenBuckets } from '../edge/token-buckets.js';

export interface RateLimitOptions {
  /** Sustained rate. Default 5. */
  readonly perSecond?: number;
  /** Bucket size. Default 10. */
  readonly burst?: number;
  /** Most buckets kept; past it the least recently used are dropped. Default 100 000. */
  readonly maxKeys?: number;
  readonly now?: () => number;
}

export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

export class RateLimiter {
  private readonly buckets: TokenBuckets;

  constructor(options: RateLimitOptions = {}) {
    this.buckets = new TokenBuckets(options.perSecond ?? 5, options.burst ?? 10, options.now ?? Date.now, options.maxKeys ?? 100_000);
  }

  /** Takes one token for `key` if there is one. */
  take(key: string): RateDecision {
    const decision = this.buckets.take(key);
    return decision.allowed ? { allowed: true } : { allowed: false, retryAfterSeconds: decision.retryAfterSeconds };
  }

  get size(): number {
    return this.buckets.size;
  }
}
