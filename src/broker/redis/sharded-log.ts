// The log over its buckets (--redis-log-buckets; one bucket is the unsharded log):
// a publish goes whole to the bucket of its canonical topic, history merges the
// buckets into the one global order (entry time, bucket, sequence) that every
// process's reader also emits, and publisher ids stay unique across buckets through
// a claim per id (in the slot of the id's own hash) taken before the bucket's script.
import { randomBytes } from 'node:crypto';
import { HeraldError } from '../../errors.js';
import { storeError, type RedisClient } from './connection.js';
import { bucketOf } from './buckets.js';
import { recordAlternates } from './alternates.js';
import { entryTimeMs, type RedisKeys } from './keys.js';
import { nextEntryId, type RedisLog } from './log.js';
import { claimScript, releaseClaimScript, replaceClaimScript } from './claim-scripts.js';
import { mergeSources, scanHistory } from './scan.js';
import type { HistoryQuery, HistoryResult, Update } from '../types.js';

// A query whose topics x buckets exceed this scans the log: that many index reads per
// page would cost more than they save (and bound what one subscriber's page costs).
const MAX_INDEX_READS = 1024;

interface Position {
  readonly bucket: number;
  readonly entryId: string;
}

export class ShardedLog {
  private readonly tokenPrefix = randomBytes(4).toString('hex');
  private tokens = 0;
  // Claims live in other slots (other masters) and finish in any order; the bucket
  // scripts are sent in call order all the same, so entry times follow the call order
  // and a process's own publishes keep it in the global order, whatever the buckets.
  private sendTurn: Promise<void> = Promise.resolve();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly redis: RedisClient,
    private readonly logs: readonly RedisLog[],
    /** The keys of each bucket (claims live in bucket bucketOf(id)'s slot). */
    private readonly keys: readonly RedisKeys[],
    /** Publish deadline on Redis' clock, as the bucket script gets it. */
    private readonly deadline: () => number,
  ) {}

  get buckets(): number {
    return this.logs.length;
  }

  bucketOf(topic: string): number {
    return bucketOf(topic, this.logs.length);
  }

  async publish(update: Update, presence = false): Promise<void> {
    const bucket = this.bucketOf(update.topics[0] ?? '');
    const log = this.logs[bucket]!;
    // One bucket: the bucket's own id key is global.
    if (this.logs.length === 1) {
      await log.publish(update, presence);
      return;
    }
    const token = `${this.tokenPrefix}${(this.tokens++).toString(36)}`;
    const turn = this.sendTurn;
    let passTurn!: () => void;
    this.sendTurn = new Promise((resolve) => (passTurn = resolve));
    // Alternates of other buckets are recorded there before the update is written (alternates.ts).
    const alternates = [...new Set(update.topics.slice(1))].map((t) => [t, this.bucketOf(t)] as const).filter(([, b]) => b !== bucket);
    const [claimed, after] = await Promise.all([
      this.claim(update.id, bucket, token).then(() => null, (error: unknown) => error),
      alternates.length === 0 ? 0 : recordAlternates(this.redis, this.keys, bucket, alternates, 0).catch((error: unknown) => error),
    ]);
    await turn;
    const failed = claimed ?? (typeof after === 'number' ? null : storeError(after, 'the update was not published'));
    if (failed !== null) {
      if (claimed === null) await this.release(update.id, token).catch(() => {});
      passTurn();
      throw failed;
    }
    // log.publish sends its script before its first await: the next one may go.
    const sent = log.publish(update, presence, token, after as number);
    passTurn();
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent)).catch(() => {});
    let published;
    try {
      published = await sent;
    } catch (error) {
      // Refused by the bucket (kept there under another claim): ours goes. After a
      // failure it stays until its deadline, as the script may still run until then.
      if (error instanceof HeraldError && error.code === 'duplicate_id') await this.release(update.id, token).catch(() => {});
      throw error;
    }
    // Before resolving, so that a publisher reusing a just-trimmed id finds it free.
    await Promise.all(published.released.map(([id, claim]) => this.release(id, claim))).catch((error: unknown) => {
      throw storeError(error, 'the update was published, but the ids it trimmed may stay reserved until reused');
    });
  }

  /** Resolves once every publish called so far has been sent and answered (close() waits for it). */
  async settle(): Promise<void> {
    await this.sendTurn;
    await Promise.allSettled([...this.inFlight]);
  }

  async history(query: HistoryQuery): Promise<HistoryResult> {
    const [after, before] = await Promise.all([
      query.afterId != null ? this.position(query.afterId) : undefined,
      query.beforeId !== undefined ? this.position(query.beforeId) : undefined,
    ]);
    if (after === null || before === null) return { updates: [], found: false, truncated: false };
    const forward = query.oldestFirst === true;
    const topics = query.topics === undefined ? undefined : [...new Set(query.topics)];
    const indexed = topics !== undefined && topics.length * this.logs.length <= MAX_INDEX_READS;
    const sources = await Promise.all(this.logs.map(async (log, b) => {
      const range = await log.range(after === undefined ? null : lowerAfter(after, b), before === undefined ? null : upperBefore(before, b), forward);
      return log.source(range, b, indexed ? topics : undefined);
    }));
    return scanHistory(query, mergeSources(sources, forward), indexed);
  }

  async lastEventId(): Promise<string | null> {
    const newest = await this.history({ filter: () => true, limit: 1 });
    return newest.updates[0]?.id ?? null;
  }

  /** Where the kept update `updateId` is; null when it is not kept. */
  private async position(updateId: string): Promise<Position | null> {
    if (this.logs.length === 1) {
      const entryId = await this.logs[0]!.entryOf(updateId);
      return entryId === null ? null : { bucket: 0, entryId };
    }
    // The claim says which bucket; an unknown id costs this one GET.
    const claim = parseClaim(await this.redis.get(this.claimKey(updateId)));
    if (claim === null) return null;
    const entryId = await this.logs[claim.bucket]?.entryOf(updateId);
    return entryId == null ? null : { bucket: claim.bucket, entryId };
  }

  private claimKey(updateId: string): string {
    return `${this.keys[bucketOf(updateId, this.keys.length)]!.claimPrefix}${updateId}`;
  }

  /** Takes the id for `bucket`, or throws duplicate_id when another update holds it. */
  private async claim(updateId: string, bucket: number, token: string): Promise<void> {
    const key = this.claimKey(updateId);
    const deadline = this.deadline();
    const value = `${bucket}|${token}|${deadline}`;
    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = (await claimScript.run(this.redis, [key], [value])) as string | null;
      if (existing === null) return;
      const held = parseClaim(existing);
      if (held !== null && (await this.logs[held.bucket]?.entryOf(updateId)) == null) {
        // Not kept where claimed: free once that publish can no longer run (its deadline).
        const replaced = Number(await replaceClaimScript.run(this.redis, [key], [existing, value, held.deadline]));
        if (replaced === 1) return;
        if (replaced === 0) continue;
      }
      break;
    }
    throw new HeraldError('duplicate_id', `An update with id "${updateId}" is already in the log; ids must be unique`);
  }

  private async release(updateId: string, token: string): Promise<void> {
    await releaseClaimScript.run(this.redis, [this.claimKey(updateId)], [token]);
  }
}

function parseClaim(value: string | null): { bucket: number; deadline: number } | null {
  if (value === null) return null;
  const [bucket, , deadline] = value.split('|');
  const b = Number(bucket);
  return Number.isInteger(b) ? { bucket: b, deadline: Number(deadline) } : null;
}

// Bounds of bucket b for a read after / before the global position p = (t, p.bucket, seq).
function lowerAfter(p: Position, b: number): string {
  if (b === p.bucket) return nextEntryId(p.entryId);
  const t = BigInt(entryTimeMs(p.entryId));
  return b > p.bucket ? `${t}-0` : `${t + 1n}-0`;
}

function upperBefore(p: Position, b: number): string {
  if (b === p.bucket) return p.entryId;
  const t = BigInt(entryTimeMs(p.entryId));
  return b > p.bucket ? `${t}-0` : `${t + 1n}-0`;
}
