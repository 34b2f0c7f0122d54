// Cross-process presence: each process (node) keeps its subscriptions in its own hash
// and heart-beats into a shared ZSET; every process sweeps nodes that stopped beating
// and reports their subscriptions as expired (exactly one process wins each claim).
//
// A node's hash and its alive key (its heartbeat, the one that counts) share the node's
// own hash tag, so nodes spread over a Cluster's slots and every write of a node stays
// atomic in one slot. The shared ZSET is only the directory: who to list, who to check.
//
// A process frozen longer than the TTL (SIGSTOP, a long GC pause, a VM migration) is
// swept while alive: its records were reported gone, so when it comes back it writes
// them again and reports them restored (the hub announces their joins again), and a
// record removed meanwhile is not reported removed (its leave was announced already).
import type { RedisClient } from './connection.js';
import type { Logger } from 'pino';
import { guarded } from '../../timers.js';
import type { RedisKeys } from './keys.js';
import { beatScript, claimNodeScript, expiredNodesScript, forgetNodeScript, liveNodesScript, registerScript, removeRecordsScript } from './scripts.js';
import type { SubscriptionRecord, SubscriptionScan, SubscriptionScanResult } from '../types.js';

// Keeps each HSET well under Lua's unpack() limit.
const CHUNK = 1000;
const SWEEP_BATCH = 50;
// Fields one HSCAN call asks for (a hint: a small hash answers whole).
const SCAN_COUNT = 500;

export class RedisPresence {
  /** Our records, so the hash can be rebuilt after a failed write or after being swept. */
  private readonly local = new Map<string, string>();
  /** Ids written to our hash while this node was registered: what a sweeper would report gone. */
  private stored = new Set<string>();
  /** Ids a sweeper reported gone while we were alive, to report restored once written back. */
  private readonly claimed = new Set<string>();
  private readonly nodeKey: string;
  private readonly aliveKey: string;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private resync = true;
  private leftovers: SubscriptionRecord[] = [];

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    readonly nodeId: string,
    private readonly ttlMs: number,
    private readonly onExpired: (records: SubscriptionRecord[]) => void,
    private readonly onRestored: (records: SubscriptionRecord[]) => void,
    private readonly logger?: Logger,
  ) {
    [this.nodeKey, this.aliveKey] = nodeKeys(keys, nodeId);
  }

  /** Claims what a previous run with the same node id left behind, then joins. */
  async start(): Promise<void> {
    this.leftovers = parseRecords(await claimNodeScript.run(this.redis, [this.aliveKey, this.nodeKey], ['force']));
    await this.heartbeat();
    this.timer = setInterval(guarded('redis presence heartbeat', () => this.tick(), this.logger), Math.max(1, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  async add(records: readonly SubscriptionRecord[]): Promise<void> {
    const pairs: string[] = [];
    for (const record of records) {
      const json = JSON.stringify(record);
      this.local.set(record.id, json);
      // Written afresh: the hub announces this join itself.
      this.claimed.delete(record.id);
      pairs.push(record.id, json);
    }
    await this.guard(async () => {
      for (let i = 0; i < pairs.length; i += 2 * CHUNK) {
        const chunk = pairs.slice(i, i + 2 * CHUNK);
        const alive = await registerScript.run(this.redis, [this.aliveKey, this.nodeKey], ['0', ...chunk]);
        if (alive === 0) this.wasSwept();
        for (let j = 0; j < chunk.length; j += 2) this.stored.add(chunk[j]!);
      }
      if (this.resync) await this.heartbeat();
    });
  }

  /** Removes records; resolves with the ids whose end is still to be announced. */
  async remove(ids: readonly string[]): Promise<string[]> {
    const reported = new Set<string>();
    for (const id of ids) {
      this.local.delete(id);
      this.stored.delete(id);
      if (this.claimed.delete(id)) reported.add(id);
    }
    if (ids.length === 0) return [];
    const removed = await this.guard(() => removeRecordsScript.run(this.redis, [this.nodeKey], ids));
    // Not in the hash: a sweeper took it (and reported it) while we were frozen.
    return (Array.isArray(removed) ? removed.map(String) : []).filter((id) => !reported.has(id));
  }

  /** Records of nodes whose heartbeat is within the TTL. */
  async list(): Promise<SubscriptionRecord[]> {
    const nodes = (await liveNodesScript.run(this.redis, [this.keys.nodes], [this.ttlMs])) as string[];
    if (nodes.length === 0) return [];
    // One command per node (each in its own slot), sent together.
    const replies = await Promise.all(nodes.map((node) => this.redis.hvals(nodeKeys(this.keys, node)[0])));
    return replies.flat().map((json) => JSON.parse(json) as SubscriptionRecord);
  }

  /** One record: an HGET per live node, sent together. */
  async get(id: string): Promise<SubscriptionRecord | undefined> {
    const nodes = (await liveNodesScript.run(this.redis, [this.keys.nodes], [this.ttlMs])) as string[];
    const replies = await Promise.all(nodes.map((node) => this.redis.hget(nodeKeys(this.keys, node)[0], id)));
    const json = replies.find((reply) => reply !== null);
    return json == null ? undefined : (JSON.parse(json) as SubscriptionRecord);
  }

  /** HSCAN over the live nodes' hashes, at most `maxScan` records read (HSCAN may repeat one: kept once). */
  async scan({ filter, maxScan }: SubscriptionScan): Promise<SubscriptionScanResult> {
    const nodes = (await liveNodesScript.run(this.redis, [this.keys.nodes], [this.ttlMs])) as string[];
    const seen = new Set<string>();
    const records: SubscriptionRecord[] = [];
    let examined = 0;
    for (const node of nodes) {
      const hash = nodeKeys(this.keys, node)[0];
      let cursor = '0';
      do {
        if (examined >= maxScan) return { records, complete: false };
        const [next, pairs] = await this.redis.hscan(hash, cursor, 'COUNT', Math.min(SCAN_COUNT, maxScan - examined));
        cursor = next;
        for (let i = 0; i + 1 < pairs.length; i += 2) {
          if (seen.has(pairs[i]!)) continue;
          seen.add(pairs[i]!);
          examined++;
          const record = JSON.parse(pairs[i + 1]!) as SubscriptionRecord;
          if (filter(record)) records.push(record);
        }
      } while (cursor !== '0');
    }
    return { records, complete: true };
  }

  /** Stops heart-beating; with `leave` also removes this node, as a clean shutdown does. */
  async stop(leave: boolean): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    if (leave) {
      await this.redis.del(this.aliveKey, this.nodeKey);
      await this.redis.zrem(this.keys.nodes, this.nodeId);
    }
  }

  /** One heartbeat plus one sweep; also drives the presenceTtl cadence in tests. */
  tick(): Promise<void> {
    this.ticking ??= this.heartbeat()
      .then(() => this.sweep())
      .catch((error: unknown) => this.logger?.warn({ err: error }, 'redis presence heartbeat failed'))
      .finally(() => {
        this.ticking = null;
      });
    return this.ticking;
  }

  private async heartbeat(): Promise<void> {
    // The directory first: a node that dies between the two writes is still found by sweepers.
    await beatScript.run(this.redis, [this.keys.nodes], [this.nodeId]);
    // Snapshot and send in one tick: an add() between the two would be wiped by the replace.
    const replace = this.resync;
    const entries = replace ? [...this.local] : [];
    const pairs = entries.flat();
    const alive = await registerScript.run(this.redis, [this.aliveKey, this.nodeKey], [replace ? '1' : '0', ...pairs.slice(0, 2 * CHUNK)]);
    for (let i = 2 * CHUNK; i < pairs.length; i += 2 * CHUNK) {
      await registerScript.run(this.redis, [this.aliveKey, this.nodeKey], ['0', ...pairs.slice(i, i + 2 * CHUNK)]);
    }
    this.resync = false;
    if (alive === 0) this.wasSwept();
    if (replace) {
      this.stored = new Set(entries.map(([id]) => id));
      this.reportRestored();
    } else if (alive === 0) {
      // Another process declared us dead (we stalled longer than the TTL) and reported
      // our subscriptions as gone; put them back rather than stay invisible.
      this.logger?.warn({ nodeId: this.nodeId }, 'this node was swept as dead; re-registering its subscriptions');
      this.resync = true;
      await this.heartbeat();
    }
  }

  /** A register call found this node gone: what we had stored was claimed and reported. */
  private wasSwept(): void {
    for (const id of this.stored) this.claimed.add(id);
    this.stored.clear();
    this.resync = true;
  }

  /** After a rewrite: the claimed records that are back in the hash get their join again. */
  private reportRestored(): void {
    const records: SubscriptionRecord[] = [];
    for (const id of this.claimed) {
      const json = this.local.get(id);
      if (json !== undefined && this.stored.has(id)) records.push(JSON.parse(json) as SubscriptionRecord);
    }
    this.claimed.clear();
    if (records.length === 0) return;
    this.logger?.info({ nodeId: this.nodeId, subscriptions: records.length }, 'subscriptions reported gone while this node was frozen are listed again');
    this.onRestored(records);
  }

  private async sweep(): Promise<void> {
    if (this.leftovers.length > 0) {
      const records = this.leftovers;
      this.leftovers = [];
      this.onExpired(records);
    }
    const nodes = (await expiredNodesScript.run(this.redis, [this.keys.nodes], [this.ttlMs, SWEEP_BATCH])) as string[];
    for (const node of nodes) {
      if (node === this.nodeId) continue;
      const [hash, alive] = nodeKeys(this.keys, node);
      const claimed = await claimNodeScript.run(this.redis, [alive, hash], [this.ttlMs]);
      // Claimed by us, by another sweeper, or alive after all: either way its directory
      // entry goes unless it beat meanwhile.
      await forgetNodeScript.run(this.redis, [this.keys.nodes], [node, this.ttlMs]);
      if (claimed === null) continue;
      const records = parseRecords(claimed);
      this.logger?.info({ nodeId: node, subscriptions: records.length }, 'claimed the subscriptions of a dead hub process');
      if (records.length > 0) this.onExpired(records);
    }
  }

  // A failed write leaves Redis and `local` apart; the next heartbeat rewrites the hash.
  private async guard<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      this.resync = true;
      throw error;
    }
  }
}

/** A node's records hash and alive key, under the node's own hash tag. */
export function nodeKeys(keys: RedisKeys, nodeId: string): [hash: string, alive: string] {
  const tag = `${keys.nodePrefix}${nodeId}}`;
  return [`${tag}:node`, `${tag}:alive`];
}

function parseRecords(reply: unknown): SubscriptionRecord[] {
  if (!Array.isArray(reply)) return [];
  const records: SubscriptionRecord[] = [];
  for (let i = 1; i < reply.length; i += 2) records.push(JSON.parse(String(reply[i])) as SubscriptionRecord);
  return records;
}
