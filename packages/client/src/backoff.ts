// Reconnection delays: exponential from the base (the hub's `retry:` when it sent one)
// up to a ceiling, with "full jitter" so that thousands of clients dropped at once
// (a hub restart) do not all come back in the same millisecond.

export interface BackoffOptions {
  /** First delay in ms; a `retry:` field from the hub replaces it. Default 1000. */
  readonly initialDelayMs?: number;
  /** Ceiling in ms. Default 30000. */
  readonly maxDelayMs?: number;
}

export class Backoff {
  private failures = 0;
  private base: number;
  private readonly max: number;

  constructor(options: BackoffOptions = {}, private readonly random: () => number = Math.random) {
    this.base = Math.max(0, options.initialDelayMs ?? 1000);
    this.max = Math.max(this.base, options.maxDelayMs ?? 30_000);
  }

  /** The hub's `retry:` field: the base of every later delay. */
  set baseMs(ms: number) {
    this.base = ms;
  }

  /** A connection that opened and worked resets the sequence. */
  succeeded(): void {
    this.failures = 0;
  }

  /**
   * The delay before the next attempt: the first is the base, spread from half of it to
   * all of it; the n-th is drawn from [base*2^(n-1)/2, base*2^(n-1)], capped at the ceiling.
   * `atLeast` (a Retry-After) is a floor the jitter never goes under.
   */
  next(atLeast = 0): number {
    const ceiling = Math.min(this.max, this.base * 2 ** Math.min(this.failures, 20));
    this.failures++;
    const delay = ceiling / 2 + (this.random() * ceiling) / 2;
    return Math.max(Math.round(delay), atLeast);
  }
}
