// The merged reader's ticks, sent together: the ticks one event-loop turn wants go out
// as one pipeline per Redis node (a Cluster's slot owners; a single server is one node,
// and there one script call covers all its buckets), each bucket's tick and read in the
// same script call (tickReadScript). Per tick, the cost that mattered was the round trip
// itself: a pipeline and a reply per bucket, on Redis' event loop and on ours.
import { Cluster } from 'ioredis';
import { keySlot } from './buckets.js';
import type { RedisClient } from './connection.js';
import type { RedisKeys } from './keys.js';
import { tickReadScript } from './publish-script.js';

export type StreamEntry = [id: string, fields: string[]];

export interface TickRequest {
  readonly keys: RedisKeys;
  /** Raise the bucket's clock to at least this. */
  readonly at: number;
  /** Read the entries after this id. */
  readonly from: string;
}

export interface TickResult {
  /** The bucket's clock after the tick: every entry not in `entries` sorts at or above it, unless `entries` is a full batch. */
  readonly clock: number;
  readonly entries: StreamEntry[];
}

/** Ticks and reads `requests`; one result (or the error of its call) per request, in order. */
export async function tickAndRead(client: RedisClient, requests: readonly TickRequest[], batch: number): Promise<(TickResult | Error)[]> {
  const results: (TickResult | Error)[] = [];
  await Promise.all([...byNode(client, requests).values()].map(async (calls) => {
    const pipeline = client.pipeline();
    for (const call of calls) pipeline.evalsha(tickReadScript.sha, call.length * 2, ...keysOf(requests, call), ...argsOf(requests, call, batch));
    let replies: [Error | null, unknown][];
    try {
      replies = (await pipeline.exec()) ?? [];
    } catch (error) {
      replies = calls.map(() => [asError(error), null]);
    }
    await Promise.all(calls.map(async (call, c) => {
      let [error, reply] = replies[c] ?? [new Error('no reply to the tick'), null];
      if (error?.message.startsWith('NOSCRIPT')) {
        // Redis restarted and lost its script cache: this call once more, falling back to EVAL.
        try {
          [error, reply] = [null, await tickReadScript.run(client, keysOf(requests, call), argsOf(requests, call, batch))];
        } catch (retried) {
          error = asError(retried);
        }
      }
      const flat = reply as unknown[];
      call.forEach((r, i) => {
        results[r] = error ?? { clock: Number(flat[2 * i]), entries: (flat[2 * i + 1] as StreamEntry[] | undefined) ?? [] };
      });
    }));
  }));
  return results;
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));
const keysOf = (requests: readonly TickRequest[], call: readonly number[]): string[] => call.flatMap((r) => [requests[r]!.keys.meta, requests[r]!.keys.stream]);
const argsOf = (requests: readonly TickRequest[], call: readonly number[], batch: number): (string | number)[] =>
  [batch, ...call.flatMap((r) => [requests[r]!.at, requests[r]!.from])];

/**
 * The script calls (request indexes) of each node: on a Cluster one call per bucket (a
 * script's keys share one slot), grouped by the slot's owner; on a single server one call.
 */
function byNode(client: RedisClient, requests: readonly TickRequest[]): Map<string, number[][]> {
  const all = requests.map((_, r) => r);
  if (!(client instanceof Cluster)) return new Map([['server', [all]]]);
  const groups = new Map<string, number[][]>();
  for (const r of all) {
    const slot = keySlot(requests[r]!.keys.meta);
    // No slot map yet: a pipeline of its own, which ioredis routes once it has one.
    const node = client.slots[slot]?.[0] ?? `slot ${slot}`;
    const calls = groups.get(node) ?? [];
    calls.push([r]);
    groups.set(node, calls);
  }
  return groups;
}
