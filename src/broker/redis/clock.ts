// Tracks how far Redis' clock is from ours, so a publish can carry a deadline written
// in Redis time: a script that only runs after its caller gave up then writes nothing.
import type { RedisClient } from './connection.js';
import type { Logger } from 'pino';

// A sample from a slow round trip says little about when Redis read its clock.
const MAX_SAMPLE_RTT_MS = 50;
const SYNC_INTERVAL_MS = 10_000;

export class RedisClock {
  /** Redis' clock minus ours, in ms. */
  private offsetMs = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly redis: RedisClient,
    private readonly logger?: Logger,
  ) {}

  async start(): Promise<void> {
    await this.sample();
    this.timer = setInterval(() => {
      this.sample().catch((error: unknown) => this.logger?.debug({ err: error }, 'redis clock sample failed'));
    }, SYNC_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Now + `ms`, on Redis' clock. */
  deadline(ms: number): number {
    return Math.floor(Date.now() + this.offsetMs + ms);
  }

  private async sample(): Promise<void> {
    const sentAt = Date.now();
    const [seconds, micros] = await this.redis.time();
    const receivedAt = Date.now();
    if (receivedAt - sentAt > MAX_SAMPLE_RTT_MS) return;
    this.offsetMs = Number(seconds) * 1000 + Number(micros) / 1000 - (sentAt + receivedAt) / 2;
  }
}
