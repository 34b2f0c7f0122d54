// `npm run bench -- --redis`: the Redis scenarios (scenarios.ts) one after the other,
// each on its own private cluster, every process stopped before the next starts.
import { HAS_LOG_BUCKETS } from './cluster.js';
import { latency, masterCpu, rareResume, type RedisBenchContext, type RedisRow } from './scenarios.js';

export async function runRedisBench(ctx: RedisBenchContext): Promise<RedisRow[]> {
  const rows: RedisRow[] = [];
  // The sharded log is what spreads publishes over masters: measure it when it exists.
  const sharded = HAS_LOG_BUCKETS ? 16 : undefined;
  for (const masters of [1, 2, 3] as const) {
    ctx.log(`R1/R2: ${masters} master(s)`);
    rows.push(...(await masterCpu(ctx, masters, sharded)));
  }
  ctx.log(`R3: rare-topic resume at ${ctx.sizes.kept.join(' / ')} kept`);
  rows.push(...(await rareResume(ctx)));
  for (const buckets of HAS_LOG_BUCKETS ? [1, 16] : [undefined]) {
    ctx.log(`R4: latency${buckets === undefined ? '' : `, ${buckets} buckets`}`);
    rows.push(await latency(ctx, buckets));
  }
  return rows;
}
