// `npm run bench -- --redis`: the Redis scenarios (scenarios.ts) one after the other,
// each on its own private cluster, every process stopped before the next starts.
import { HAS_LOG_BUCKETS } from './cluster.js';
import { latency, masterCpu, rareResume, type RedisBenchContext, type RedisRow } from './scenarios.js';

export async function runRedisBench(ctx: RedisBenchContext): Promise<RedisRow[]> {
  const rows: RedisRow[] = [];
  // The sharded log is what spreads publishes over masters: measure it when it exists.
  const sharded = HAS_LOG_BUCKETS ? 16 : undefined;
  // With --before each configuration runs every build back to back, so both see the same minutes.
  if (ctx.scenarios.has('R1')) {
    for (const masters of [1, 2, 3] as const) {
      for (const build of ctx.builds) {
        ctx.log(`R1/R2: ${masters} master(s) ${build.name}`);
        rows.push(...(await masterCpu(ctx, masters, sharded, build)));
      }
    }
  }
  if (ctx.scenarios.has('R3')) {
    ctx.log(`R3: rare-topic resume at ${ctx.sizes.kept.join(' / ')} kept`);
    rows.push(...(await rareResume(ctx)));
  }
  if (ctx.scenarios.has('R4')) {
    for (const buckets of HAS_LOG_BUCKETS ? [1, 16] : [undefined]) {
      // One bucket is the unsharded log, the same in every build: measured once.
      for (const build of buckets === 16 ? ctx.builds : ctx.builds.slice(0, 1)) {
        ctx.log(`R4: latency${buckets === undefined ? '' : `, ${buckets} buckets`} ${build.name}`);
        rows.push(await latency(ctx, buckets, build));
      }
    }
  }
  return rows;
}
