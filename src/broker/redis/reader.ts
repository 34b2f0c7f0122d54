// The per-process fan-out: one blocking XREAD loop on its own connection that hands
// every new stream entry to the listeners, exactly once and in log order. The position
// (last delivered entry id) lives here, so a reconnect resumes where delivery stopped.
import type { RedisClient } from './connection.js';
import type { Logger } from 'pino';
import { compareEntryIds, decodeUpdate } from './keys.js';
import type { Update } from '../types.js';
import { CatchUpWaiters } from './catch-up.js';

const BLOCK_MS = 5000;
const BATCH = 500;
const MAX_BACKOFF_MS = 2000;

type StreamEntry = [id: string, fields: string[]];
type XReadReply = [key: string, entries: StreamEntry[]][] | null;

export class StreamReader {
  private lastId = '0-0';
  private stopped = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private readonly catchUps = new CatchUpWaiters<string>((target) => compareEntryIds(this.lastId, target) >= 0);

  constructor(
    /** The blocking connection: XREAD BLOCK holds it, so nothing else may wait behind it. */
    private readonly redis: RedisClient,
    /** A connection that answers at once, for what is asked while the loop blocks (caughtUp). */
    private readonly commands: RedisClient,
    private readonly stream: string,
    private readonly deliver: (update: Update) => void,
    private readonly logger?: Logger,
  ) {}

  /** Starts after the current newest entry: a new process does not replay history live. */
  async start(): Promise<void> {
    const info = await streamInfo(this.redis, this.stream);
    this.lastId = info?.lastGeneratedId ?? '0-0';
    this.loop = this.run();
  }

  /** Broker.caughtUp: resolves once every entry written before the call has been delivered. */
  async caughtUp(): Promise<void> {
    await this.catchUps.catchUp(async () => (await streamInfo(this.commands, this.stream))?.lastGeneratedId ?? '0-0');
  }

  /** Ends the loop and drops the connection (not QUIT, which would wait out the pending XREAD BLOCK). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.catchUps.stop();
    this.wakeUp?.();
    this.redis.disconnect();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        if (failures > 0) {
          await this.resync();
          this.catchUps.check();
        }
        const reply = (await this.redis.xread('COUNT', BATCH, 'BLOCK', BLOCK_MS, 'STREAMS', this.stream, this.lastId)) as XReadReply;
        failures = 0;
        for (const [id, fields] of reply?.[0]?.[1] ?? []) {
          if (this.stopped) return;
          this.lastId = id;
          const update = decodeUpdate(fields);
          if (update === null) this.logger?.warn({ entryId: id }, 'skipping a stream entry Herald did not write');
          else this.deliver(update);
        }
        this.catchUps.check();
      } catch (error) {
        if (this.stopped) return;
        failures++;
        if (failures === 1) this.logger?.warn({ err: error }, 'redis reader lost its connection; retrying');
        await this.pause(Math.min(100 * 2 ** Math.min(failures - 1, 5), MAX_BACKOFF_MS));
      }
    }
  }

  /** After an outage the stream may have been trimmed, or reset (Redis restarted without data). */
  private async resync(): Promise<void> {
    const info = await streamInfo(this.redis, this.stream);
    if (info === null) {
      if (this.lastId !== '0-0') this.logger?.warn({ lastId: this.lastId }, 'the redis stream is gone (Redis restarted without persistence?); following the new one');
      this.lastId = '0-0';
      return;
    }
    if (compareEntryIds(info.lastGeneratedId, this.lastId) < 0) {
      // A failover to a lagging replica: everything up to its last id was delivered already.
      this.logger?.warn({ lastId: this.lastId, streamLastId: info.lastGeneratedId }, 'the redis stream went back in time; resuming from its newest entry');
      this.lastId = info.lastGeneratedId;
      return;
    }
    const stillThere = (await this.redis.xrange(this.stream, this.lastId, this.lastId)) as StreamEntry[];
    if (stillThere.length === 0 && info.firstEntryId !== null && compareEntryIds(info.firstEntryId, this.lastId) > 0) {
      this.logger?.warn({ lastId: this.lastId, firstId: info.firstEntryId }, 'updates may have been trimmed from the redis stream during the outage; continuing with what is kept');
    }
  }

  // A backoff that close() can cut short.
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }
}

/** XINFO STREAM's ends of `stream`: its last generated id and first entry; null when there is no such stream. */
export async function streamInfo(client: RedisClient, stream: string): Promise<{ lastGeneratedId: string; firstEntryId: string | null } | null> {
  let reply: unknown;
  try {
    reply = await client.xinfo('STREAM', stream);
  } catch (error) {
    if (error instanceof Error && /no such key/i.test(error.message)) return null;
    throw error;
  }
  const fields = Array.isArray(reply) ? reply : [];
  let lastGeneratedId = '0-0';
  let firstEntryId: string | null = null;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value: unknown = fields[i + 1];
    if (fields[i] === 'last-generated-id' && typeof value === 'string') lastGeneratedId = value;
    if (fields[i] === 'first-entry' && Array.isArray(value) && typeof value[0] === 'string') firstEntryId = value[0];
  }
  return { lastGeneratedId, firstEntryId };
}
