// The fan-out of the sharded log: one blocking XREAD loop per bucket (XREAD across
// slots is CROSSSLOT on a Cluster, and a blocked connection serves nobody else), and a
// deterministic merge of the buckets into the global order (entry time, bucket, seq),
// so every process emits the same order. Each bucket has a watermark W: no entry not
// read yet sorts below (W, bucket). The head entry (t, b) goes out once every other
// bucket with nothing queued has W > t, or W = t and a higher bucket number. A quiet
// bucket's W is raised by a tick: a script raising its clock (no later entry goes
// below it), then a read of what it holds; no stream entry is written for it. The ticks
// of one event-loop turn go out together, one pipeline per Redis node (ticks.ts).
import type { Logger } from 'pino';
import type { RedisClient } from './connection.js';
import { compareEntryIds, decodeUpdate, entryTimeMs, type RedisKeys } from './keys.js';
import { tickScript } from './publish-script.js';
import { tickAndRead, type StreamEntry, type TickResult } from './ticks.js';
import type { Update } from '../types.js';
import { CatchUpWaiters } from './catch-up.js';
import { streamInfo } from './reader.js';
import { parseMarker } from './alternates.js';
import { TopicFollows } from './topic-follows.js';

const BLOCK_MS = 5000;
const BATCH = 500;
const MAX_BACKOFF_MS = 2000;
const TICK_RETRY_MS = 100;
const MAX_TICKS_IN_FLIGHT = 2;
/** The highest sequence of an entry time: a read after `${t}-MAX_SEQ` starts past time t. */
const MAX_SEQ = '18446744073709551615';

/** The other buckets recorded as naming each topic as an alternate, in the topics' order (alternates.ts). */
export type AlternatesOf = (topics: readonly string[]) => Promise<ReadonlyArray<readonly number[] | 'all'>>;


type XReadReply = [key: string, entries: StreamEntry[]][] | null;

interface Feed {
  readonly bucket: number;
  readonly keys: RedisKeys;
  client: RedisClient | null;
  /** Followed: in the merge (joining ones hold it back until their start is known). */
  active: boolean;
  /** Subscribers' follows of this bucket (interest filtering); Infinity: always followed. */
  followers: number;
  joining: Promise<void> | null;
  lastId: string;
  /** Where the current follow started reading (entries at or before it were not read by it). */
  startId: string;
  watermark: number;
  queue: StreamEntry[];
  /** Bumped by every join and leave: a tick sent before it answers for an earlier follow. */
  generation: number;
  /** Ticks sent and not answered yet, and the highest clock they ask for. */
  ticks: number;
  tickedTo: number;
  /** A tick wanted at least this high, sent at the end of the turn (0: none). */
  tickAt: number;
  loop?: Promise<void>;
}

export class MergedReader {
  private readonly feeds: Feed[];
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  /** Entry time of the last update emitted: a bucket joining later starts past it. */
  private emitted = 0;
  /** Broker.caughtUp: per followed bucket, its newest entry id when the call was made. */
  private readonly catchUps = new CatchUpWaiters<ReadonlyArray<readonly [Feed, string]>>((targets) => targets.every(([feed, target]) => emittedThrough(feed, target)));
  private ticksScheduled = false;
  private readonly topics: TopicFollows;

  constructor(
    private readonly commands: RedisClient,
    buckets: readonly RedisKeys[],
    /** A new blocking connection (one per followed bucket). */
    private readonly openBlocking: (role: string) => Promise<RedisClient>,
    private readonly deliver: (update: Update) => void,
    private readonly logger?: Logger,
    private readonly alternatesOf?: AlternatesOf,
  ) {
    this.feeds = buckets.map((keys, bucket) => ({ bucket, keys, client: null, active: false, followers: 0, joining: null, lastId: '0-0', startId: '0-0', watermark: -1, queue: [], generation: 0, ticks: 0, tickedTo: 0, tickAt: 0 }));
    this.topics = new TopicFollows(buckets.length, (b) => this.feeds[b]!.followers++, (b) => {
      if (--this.feeds[b]!.followers === 0) this.leave(this.feeds[b]!);
    });
  }

  /** Follows every bucket for good (no interest filtering), each from its current end. */
  async followAll(): Promise<void> {
    for (const feed of this.feeds) feed.followers = Number.POSITIVE_INFINITY;
    await Promise.all(this.feeds.map((feed) => this.join(feed)));
  }

  /**
   * Interest filtering: follows `buckets` (all of them for 'all') until the returned
   * release. Resolves once every one is in the merge: an update published from then on
   * in those buckets is delivered, one published before is in history. Either way, it
   * sorts after everything already delivered, so the live order stays the global one.
   */
  async follow(buckets: readonly number[] | 'all', topics: readonly string[] = []): Promise<() => void> {
    const feeds = buckets === 'all' ? this.feeds : [...new Set(buckets)].map((b) => this.feeds[b]!);
    for (const feed of feeds) feed.followers++;
    // From now on a marker naming one of these topics is acted on: the topic's bucket is
    // joined below, and a marker at or before its start is in the hash read after it.
    const releaseTopics = this.topics.add(topics);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      for (const feed of feeds) if (--feed.followers === 0) this.leave(feed);
      releaseTopics();
    };
    try {
      await Promise.all(feeds.map((feed) => this.join(feed)));
      const distinct = [...new Set(topics)];
      if (distinct.length > 0 && this.alternatesOf !== undefined) {
        const alternates = await this.alternatesOf(distinct);
        const added = distinct.flatMap((topic, i) => this.topics.addBuckets(topic, alternates[i] ?? []));
        await Promise.all(added.map((b) => this.join(this.feeds[b]!)));
      }
    } catch (error) {
      release();
      throw error;
    }
    return release;
  }

  /** Broker.caughtUp: resolves once every entry written before the call, in the followed buckets, has been emitted. */
  async caughtUp(): Promise<void> {
    await this.catchUps.catchUp(() => {
      const followed = this.feeds.filter((feed) => feed.active);
      return Promise.all(followed.map(async (feed) => [feed, await this.lastGeneratedId(feed.keys.stream)] as const));
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.catchUps.stop();
    clearTimeout(this.retry);
    for (const feed of this.feeds) feed.client?.disconnect();
    await Promise.all(this.feeds.map((feed) => feed.loop));
  }

  // A marker at the head of the merge: everything that sorts before it has been emitted,
  // nothing after it. A bucket it names that is not read yet is joined from the marker's
  // time, as every update of it naming the topic sorts after the marker (alternates.ts).
  private onMarker(fields: readonly string[], t: number): boolean {
    const marker = parseMarker(fields, this.feeds.length);
    if (marker === null) return false;
    const from = `${t}-${MAX_SEQ}`;
    for (const feed of this.topics.addBuckets(marker.topic, marker.bucket === 'all' ? 'all' : [marker.bucket]).map((b) => this.feeds[b]!)) {
      // Read for another follow since before the marker: it has every entry after it.
      if (feed.active && feed.joining === null && compareEntryIds(feed.startId, from) <= 0) continue;
      // Joined after the marker (from its end then): its entries after the marker were
      // not emitted (they sort after it), so it is read again from the marker.
      // (No drain: the merge must not move on before the join below holds it back.)
      if (feed.active) this.leave(feed, false);
      this.join(feed, t).catch((error: unknown) => {
        this.logger?.error({ err: error, bucket: feed.bucket, topic: marker.topic }, 'could not follow a bucket naming a followed topic; its updates on it are not delivered live');
      });
    }
    return true;
  }

  // In the merge at once, as a bucket that holds the others back, so nothing past the
  // join point goes out before its start is known: its clock raised past what was
  // emitted (no later entry sorts before it), then its current end (what is at or
  // before it is history), then its blocking read. `from` (a marker's time): read
  // from just past it instead, as nothing after it has been emitted.
  private join(feed: Feed, from?: number): Promise<void> {
    if (feed.active) return feed.joining ?? Promise.resolve();
    feed.active = true;
    // Ticks still in flight answer for the earlier follow and will be ignored.
    const generation = ++feed.generation;
    feed.tickedTo = 0;
    feed.watermark = -1;
    feed.queue = [];
    const past = this.emitted + 1;
    feed.joining = (async () => {
      try {
        const client = feed.client ?? (await this.openBlocking(`reader-${feed.bucket}`));
        const clock = from ?? Number(await tickScript.run(this.commands, [feed.keys.meta], [past]));
        const lastId = from !== undefined ? `${from}-${MAX_SEQ}` : await this.lastGeneratedId(feed.keys.stream);
        // Left (and maybe joined again) meanwhile: that follow owns the feed now.
        if (!feed.active || feed.generation !== generation) {
          if (feed.client !== client) client.disconnect();
          return;
        }
        feed.client = client;
        feed.lastId = lastId;
        feed.startId = lastId;
        feed.watermark = Math.max(clock, entryTimeMs(lastId));
        feed.loop = this.run(feed, client);
      } catch (error) {
        if (feed.generation === generation) feed.active = false;
        throw error;
      } finally {
        if (feed.generation === generation) feed.joining = null;
        this.drain();
      }
    })();
    return feed.joining;
  }

  private leave(feed: Feed, drain = true): void {
    if (!feed.active) return;
    feed.active = false;
    feed.generation++;
    feed.queue = [];
    feed.client?.disconnect();
    feed.client = null;
    if (drain) this.drain();
  }

  private async run(feed: Feed, client: RedisClient): Promise<void> {
    let failures = 0;
    while (!this.stopped && feed.client === client) {
      try {
        if (failures > 0) await this.resync(feed);
        const reply = (await client.xread('COUNT', BATCH, 'BLOCK', BLOCK_MS, 'STREAMS', feed.keys.stream, feed.lastId)) as XReadReply;
        failures = 0;
        if (feed.client !== client) return;
        this.accept(feed, reply?.[0]?.[1] ?? []);
        this.drain();
      } catch (error) {
        if (this.stopped || feed.client !== client) return;
        failures++;
        if (failures === 1) this.logger?.warn({ err: error, bucket: feed.bucket }, 'redis bucket reader lost its connection; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** Math.min(failures - 1, 5), MAX_BACKOFF_MS)));
      }
    }
  }

  // Entries may come twice (the blocking read and a tick's read overlap): only what follows lastId counts.
  private accept(feed: Feed, entries: readonly StreamEntry[]): void {
    for (const entry of entries) {
      if (compareEntryIds(entry[0], feed.lastId) <= 0) continue;
      feed.queue.push(entry);
      feed.lastId = entry[0];
      feed.watermark = Math.max(feed.watermark, entryTimeMs(entry[0]));
    }
  }

  private drain(): void {
    this.emitReady();
    this.catchUps.check();
  }

  private emitReady(): void {
    while (!this.stopped) {
      let head: Feed | undefined;
      const active = this.feeds.filter((f) => f.active);
      for (const feed of active) {
        const entry = feed.queue[0];
        if (entry !== undefined && (head === undefined || before(entry, feed.bucket, head.queue[0]!, head.bucket))) head = feed;
      }
      if (head === undefined) return;
      const t = entryTimeMs(head.queue[0]![0]);
      const bucket = head.bucket;
      const lagging = active.filter((f) => f !== head && f.queue.length === 0 && !(f.watermark > t || (f.watermark === t && f.bucket > bucket)));
      if (lagging.length > 0) {
        // One tick covers everything queued: raise to just past the newest queued entry, no
        // further. Raising quiet buckets ahead of time was measured: their next entries land
        // on the raised clock and need the next tick all the same, and a process's publishes
        // in flight would be raised past its later ones (their call order).
        let newest = t;
        for (const feed of active) {
          const last = feed.queue[feed.queue.length - 1];
          if (last !== undefined) newest = Math.max(newest, entryTimeMs(last[0]));
        }
        for (const feed of lagging) this.wantTick(feed, newest + 1);
        return;
      }
      const [entryId, fields] = head.queue.shift()!;
      this.emitted = Math.max(this.emitted, t);
      if (this.onMarker(fields, t)) continue;
      const update = decodeUpdate(fields);
      if (update === null) this.logger?.warn({ entryId, bucket }, 'skipping a stream entry Herald did not write');
      else this.deliver(update);
    }
  }

  /**
   * Ticks wanted in this event-loop turn go out together once it ends (ticks.ts). A
   * bucket may have two in flight: a tick asked for while one is under way does not wait
   * for its answer (the hold-back would be two round trips), but a burst does not send
   * a tick per entry either.
   */
  private wantTick(feed: Feed, at: number): void {
    if (!feed.active || feed.joining !== null || (feed.ticks > 0 && feed.tickedTo >= at)) return;
    feed.tickAt = Math.max(feed.tickAt, at);
    if (this.ticksScheduled) return;
    this.ticksScheduled = true;
    setImmediate(() => void this.sendTicks());
  }

  private async sendTicks(): Promise<void> {
    this.ticksScheduled = false;
    const feeds = this.feeds.filter((f) => f.tickAt > 0 && f.active && f.joining === null && f.ticks < MAX_TICKS_IN_FLIGHT);
    if (this.stopped || feeds.length === 0) return;
    const sent = feeds.map((feed) => {
      feed.ticks++;
      feed.tickedTo = Math.max(feed.tickedTo, feed.tickAt);
      const request = { keys: feed.keys, at: feed.tickAt, from: feed.lastId, generation: feed.generation };
      feed.tickAt = 0;
      return request;
    });
    let results: (TickResult | Error)[];
    try {
      results = await tickAndRead(this.commands, sent, BATCH);
    } catch (error) {
      results = sent.map(() => (error instanceof Error ? error : new Error(String(error))));
    }
    let failed: unknown = null;
    feeds.forEach((feed, i) => {
      feed.ticks--;
      const result = results[i] ?? new Error('no reply to the tick');
      if (result instanceof Error) failed = result;
      else if (feed.active && feed.generation === sent[i]!.generation) {
        // Everything below the clock was written before the tick returned: read it, then W = clock.
        this.accept(feed, result.entries);
        if (result.entries.length < BATCH) feed.watermark = Math.max(feed.watermark, result.clock);
      }
    });
    if (failed !== null) {
      this.logger?.debug({ err: failed }, 'redis bucket tick failed; retrying');
      clearTimeout(this.retry);
      this.retry = setTimeout(() => this.drain(), TICK_RETRY_MS);
      this.retry.unref();
    }
    this.drain();
  }

  /** After an outage: a bucket that went back in time (restart without data, failover to a lagging replica) is followed from its new end. */
  private async resync(feed: Feed): Promise<void> {
    const lastId = await this.lastGeneratedId(feed.keys.stream);
    if (compareEntryIds(lastId, feed.lastId) < 0) {
      this.logger?.warn({ bucket: feed.bucket, lastId: feed.lastId, streamLastId: lastId }, 'a redis log bucket went back in time; following it from its newest entry');
      feed.lastId = lastId;
    }
  }

  private async lastGeneratedId(stream: string): Promise<string> {
    return (await streamInfo(this.commands, stream))?.lastGeneratedId ?? '0-0';
  }
}

/** The global order of two entries of buckets a and b. */
function before(a: StreamEntry, bucketA: number, b: StreamEntry, bucketB: number): boolean {
  const ta = entryTimeMs(a[0]);
  const tb = entryTimeMs(b[0]);
  if (ta !== tb) return ta < tb;
  if (bucketA !== bucketB) return bucketA < bucketB;
  return compareEntryIds(a[0], b[0]) < 0;
}

/** Whether a bucket has emitted everything up to `target` (or is no longer followed). */
function emittedThrough(feed: Feed, target: string): boolean {
  if (!feed.active) return true;
  if (compareEntryIds(feed.lastId, target) < 0) return false;
  const queued = feed.queue[0];
  return queued === undefined || compareEntryIds(queued[0], target) > 0;
}
