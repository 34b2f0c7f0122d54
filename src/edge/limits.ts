// The counting behind the HTTP edge's limits, free of HTTP itself: open streams per key
// and in total, and a log that reports each limit once per client and minute instead of
// once per refused request. Every map here is bounded, so a flood of new client addresses
// or tokens cannot grow memory.
import type { Logger } from 'pino';

export type Clock = () => number;

/** Open streams per key and in total; 0 means no limit. */
export class StreamCounter {
  private readonly perKey = new Map<string, number>();
  private total = 0;

  constructor(
    readonly maxPerKey: number,
    readonly maxTotal: number,
  ) {}

  get size(): number {
    return this.total;
  }

  count(key: string): number {
    return this.perKey.get(key) ?? 0;
  }

  /** 'total' or 'per-key' when a limit is reached; else counts the stream and returns its release function (idempotent). */
  acquire(key: string): 'total' | 'per-key' | (() => void) {
    if (this.maxTotal > 0 && this.total >= this.maxTotal) return 'total';
    const current = this.count(key);
    if (this.maxPerKey > 0 && current >= this.maxPerKey) return 'per-key';
    this.perKey.set(key, current + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = this.count(key) - 1;
      if (left <= 0) this.perKey.delete(key);
      else this.perKey.set(key, left);
    };
  }
}

/** Logs a limit the first time a client hits it in a window, with how many were not logged since. */
export class LimitLog {
  private readonly seen = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly windowMs = 60_000,
    private readonly now: Clock = Date.now,
    private readonly maxKeys = 10_000,
  ) {}

  /** True when this call logged. */
  note(limit: string, client: string, detail: Record<string, unknown> = {}): boolean {
    const key = `${limit}\u0000${client}`;
    const now = this.now();
    const entry = this.seen.get(key);
    if (entry !== undefined && now - entry.at < this.windowMs) {
      entry.suppressed++;
      return false;
    }
    this.seen.delete(key);
    this.seen.set(key, { at: now, suppressed: 0 });
    for (const [oldKey, old] of this.seen) {
      if (this.seen.size <= this.maxKeys && now - old.at < this.windowMs) break;
      this.seen.delete(oldKey);
    }
    this.logger.warn({ limit, client, suppressedSinceLast: entry?.suppressed ?? 0, ...detail }, `limit reached: ${limit} (logged once per client per ${Math.round(this.windowMs / 1000)} s)`);
    return true;
  }
}
