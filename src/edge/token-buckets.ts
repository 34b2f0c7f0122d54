// The one token bucket of Herald, keyed (by publisher token or address for the publish
// rate, by person for the chat): `burst` at once, then `perSecond` sustained; a call
// may cost several tokens (a batch costs one per update). Idle full buckets are
// forgotten and at most `maxKeys` are kept, so a flood of new keys cannot grow memory.
// Per process: with several Herald processes each applies its own limit.

export type Clock = () => number;

export interface RateDecision {
  readonly allowed: boolean;
  /** Whole seconds until `cost` tokens are back (0 when allowed). */
  readonly retryAfterSeconds: number;
}

/** `burst` at once, then `perSecond` sustained, per key; idle full buckets are forgotten. */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: Clock = Date.now,
    private readonly maxKeys = 100_000,
  ) {
    if (!(perSecond > 0) || !(burst >= 1)) throw new RangeError('perSecond must be > 0 and burst >= 1');
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Takes `cost` tokens for `key` when it has them; a cost above the burst is never allowed. */
  take(key: string, cost = 1): RateDecision {
    const now = this.now();
    const previous = this.buckets.get(key);
    const tokens = previous === undefined ? this.burst : Math.min(this.burst, previous.tokens + (Math.max(0, now - previous.at) / 1000) * this.perSecond);
    this.buckets.delete(key); // re-inserted last: the map's order is least recently used first
    const allowed = cost <= tokens;
    this.buckets.set(key, { tokens: allowed ? tokens - cost : tokens, at: now });
    this.evict(now);
    if (allowed) return { allowed, retryAfterSeconds: 0 };
    const missing = Math.min(cost, this.burst) - tokens;
    return { allowed, retryAfterSeconds: Math.max(1, Math.ceil(missing / this.perSecond)) };
  }

  private evict(now: number): void {
    const fullAfterMs = (this.burst / this.perSecond) * 1000;
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.at < fullAfterMs && this.buckets.size <= this.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}
