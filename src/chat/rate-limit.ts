// A token bucket per key (the chat keys it by person): `burst` sends at once, then
// `perSecond`. Buckets that have refilled are forgotten, so the map only holds people
// who sent recently and stays bounded by `maxKeys` even under a flood of new ids.
// Per process: with several Herald processes each applies its own limit.

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

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  /** Insertion order = least recently used first (entries are re-inserted on use). */
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: RateLimitOptions = {}) {
    this.perSecond = options.perSecond ?? 5;
    this.burst = options.burst ?? 10;
    this.maxKeys = options.maxKeys ?? 100_000;
    this.now = options.now ?? Date.now;
    if (!(this.perSecond > 0) || !(this.burst >= 1)) throw new RangeError('perSecond must be > 0 and burst >= 1');
  }

  /** Takes one token for `key` if there is one. */
  take(key: string): RateDecision {
    const now = this.now();
    const bucket = this.refill(key, now);
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    this.evict(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond)) };
  }

  get size(): number {
    return this.buckets.size;
  }

  private refill(key: string, now: number): Bucket {
    const bucket = this.buckets.get(key);
    if (bucket === undefined) return { tokens: this.burst, at: now };
    const elapsed = Math.max(0, now - bucket.at) / 1000;
    bucket.tokens = Math.min(this.burst, bucket.tokens + elapsed * this.perSecond);
    bucket.at = now;
    return bucket;
  }

  private evict(now: number): void {
    const fullAfterMs = (this.burst / this.perSecond) * 1000;
    for (const [key, bucket] of this.buckets) {
      const idleFull = now - bucket.at >= fullAfterMs;
      if (!idleFull && this.buckets.size <= this.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}
