// The Redis bench's scenarios (docs/performance.md, "Redis"):
//   R1 Redis CPU per publish on each master, with 1, 2 and 3 cluster masters, publishes
//      spread over many topics (INFO used_cpu_sys + used_cpu_user before and after);
//   R2 Herald CPU per update on a second process with no interested subscriber (/proc);
//   R3 rare-topic resume time with 10k / 200k / 1M updates kept;
//   R4 publish-to-delivery latency p50/p99 across processes (1 bucket vs N once the
//      sharded log's option exists).
// Every row carries the load generator's CPU (this process): at 80% or more a ratio is "saturated".
import { setTimeout as sleep } from 'node:timers/promises';
import { HAS_LOG_BUCKETS, LOG_BUCKETS_FLAG, loadCpuWindow, othersOnServerCpu, publishBatch, publishOne, readStream, startBenchCluster, startHerald, type BenchHerald } from './cluster.js';

export interface RedisRow {
  readonly scenario: 'R1' | 'R2' | 'R3' | 'R4';
  readonly label: string;
  /** The figure, in `unit`. */
  readonly value: number;
  readonly unit: string;
  /** More figures of the row (per master CPU, p99, fill rate...). */
  readonly detail: Record<string, number | string>;
  readonly loadCpuPct: number;
  readonly notes: string[];
}

/** A Herald build to run: this checkout's, or an earlier one (--before). */
export interface HeraldBuild {
  readonly name: string;
  readonly cli?: string;
}

export interface RedisBenchContext {
  readonly serverCpus?: string;
  /** R1 and R4 run each build, the first being this checkout (its rows carry no name). */
  readonly builds: readonly HeraldBuild[];
  readonly scenarios: ReadonlySet<string>;
  readonly lifetimeSeconds: number;
  readonly log: (line: string) => void;
  /** Updates per R1/R2 run, kept updates of R3's largest step, seconds of R4. */
  readonly sizes: { readonly publishes: number; readonly kept: readonly number[]; readonly latencySeconds: number; readonly latencyRate: number };
}

const TOPICS = 1000;
const topic = (i: number): string => `https://bench.example/t/${i % TOPICS}`;
const bucketArgs = (n: number | undefined): string[] => (n === undefined || !HAS_LOG_BUCKETS ? [] : [LOG_BUCKETS_FLAG, String(n)]);

/** Publishes `count` updates over TOPICS topics through `herald`, `batch` per request, `lanes` requests in flight. */
async function fill(herald: BenchHerald, count: number, batch = 100, lanes = 4, offset = 0): Promise<void> {
  let next = 0;
  const data = 'x'.repeat(32);
  await Promise.all(Array.from({ length: lanes }, async () => {
    for (let start = (next += batch) - batch; start < count; start = (next += batch) - batch) {
      const size = Math.min(batch, count - start);
      await publishBatch(herald, Array.from({ length: size }, (_, i) => ({ topic: topic(offset + start + i), data })));
    }
  }));
}

/** R1 and R2 on one cluster of `masters` masters. */
export async function masterCpu(ctx: RedisBenchContext, masters: 1 | 2 | 3, buckets: number | undefined, build: HeraldBuild = ctx.builds[0]!): Promise<RedisRow[]> {
  const cluster = await startBenchCluster(masters, ctx.serverCpus);
  const run = { cpus: ctx.serverCpus, lifetimeSeconds: ctx.lifetimeSeconds, ...(build.cli === undefined ? {} : { cli: build.cli }) };
  const prefix = `bench-r1:${masters}:`;
  const extra = bucketArgs(buckets);
  const [publisher, idle] = await Promise.all([startHerald(cluster.topology.url, prefix, extra, run), startHerald(cluster.topology.url, prefix, extra, run)]);
  try {
    // A subscriber on the idle process to a topic nobody publishes to: connected, not interested.
    const idleStream = await readStream(`${idle.url}/.well-known/mercure?topic=${encodeURIComponent('https://bench.example/nobody')}`, {}, () => {});
    await fill(publisher, 2000);
    const n = ctx.sizes.publishes;
    const others = othersOnServerCpu(ctx.serverCpus, [...cluster.pids, publisher.pid, idle.pid]);
    const [cpuBefore, idleBefore, publisherBefore, load] = [await cluster.masterCpuUs(), idle.cpuUs(), publisher.cpuUs(), loadCpuWindow()];
    const started = performance.now();
    await fill(publisher, n, 100, 4, 2000);
    const seconds = (performance.now() - started) / 1000;
    const loadPct = load();
    const othersPct = Math.round(others());
    const perMaster = (await cluster.masterCpuUs()).map((after, i) => (after - cpuBefore[i]!) / n);
    // Let the idle process's reader finish the burst: its CPU for these updates counts.
    await sleep(1000);
    const idleUs = (idle.cpuUs() - idleBefore) / n;
    const publisherUs = (publisher.cpuUs() - publisherBefore) / n;
    idleStream.close();
    const label = `${masters} master${masters > 1 ? 's' : ''}${buckets === undefined ? '' : `, ${buckets} buckets`}${nameOf(ctx, build)}`;
    return [
      {
        scenario: 'R1', label, value: Math.max(...perMaster), unit: 'µs/publish on the busiest master',
        detail: { perMasterUs: perMaster.map((v) => v.toFixed(2)).join(' / '), totalUs: Number(perMaster.reduce((a, b) => a + b, 0).toFixed(2)), publishesPerSec: Math.round(n / seconds), othersOnServerCpuPct: othersPct },
        loadCpuPct: loadPct, notes: [],
      },
      {
        scenario: 'R2', label, value: idleUs, unit: 'µs/update on a process with no interested subscriber',
        detail: { publisherUsPerUpdate: Number(publisherUs.toFixed(2)), idleVsPublisher: Number((idleUs / publisherUs).toFixed(3)) },
        loadCpuPct: loadPct, notes: ['process CPU from /proc (10 ms ticks), over the publishing window + 1 s'],
      },
    ];
  } finally {
    await Promise.all([publisher.stop(), idle.stop()]);
    await cluster.stop();
  }
}

/** R3: a rare topic's resume (Last-Event-ID from the oldest update) as the log grows through `kept` sizes. */
export async function rareResume(ctx: RedisBenchContext): Promise<RedisRow[]> {
  const cluster = await startBenchCluster(3, ctx.serverCpus);
  const largest = Math.max(...ctx.sizes.kept);
  const herald = await startHerald(cluster.topology.url, 'bench-r3:', ['--history-max-total', String(largest + 10_000), ...bucketArgs(HAS_LOG_BUCKETS ? 16 : undefined)],
    { cpus: ctx.serverCpus, lifetimeSeconds: ctx.lifetimeSeconds });
  const rare = 'https://bench.example/rare';
  const rows: RedisRow[] = [];
  try {
    if ((await publishOne(herald, { topic: topic(0), id: 'first', data: 'first' })) !== 200) throw new Error('the first publish failed');
    let kept = 1;
    let rares = 0;
    for (const target of [...ctx.sizes.kept].sort((a, b) => a - b)) {
      const load = loadCpuWindow();
      const started = performance.now();
      // Large batches: the fill is not measured, only has to be quick.
      await fill(herald, target - kept - 1, 1000, 2, kept);
      if ((await publishOne(herald, { topic: rare, id: `rare-${rares}`, data: 'rare' })) !== 200) throw new Error('a rare publish failed');
      rares++;
      kept = target;
      const fillRate = (target / ((performance.now() - started) / 1000));
      const fillLoad = load();
      const times: number[] = [];
      let resumeLoad = 0;
      for (let round = 0; round < 3; round++) {
        const window = loadCpuWindow();
        const t0 = performance.now();
        let got = 0;
        let done: () => void = () => {};
        const all = new Promise<void>((resolve) => (done = resolve));
        const stream = await readStream(`${herald.url}/.well-known/mercure?topic=${encodeURIComponent(rare)}`, { 'Last-Event-ID': 'first' }, () => {
          if (++got === rares) done();
        });
        await Promise.race([all, sleep(120_000).then(() => Promise.reject(new Error(`resume at ${target} kept: ${got} of ${rares} events in 120 s`)))]);
        times.push(performance.now() - t0);
        stream.close();
        resumeLoad = Math.max(resumeLoad, window());
      }
      times.sort((a, b) => a - b);
      ctx.log(`R3: ${target} kept, resume ${times[1]!.toFixed(0)} ms`);
      rows.push({
        scenario: 'R3', label: `${target} kept`, value: times[1]!, unit: 'ms to the last rare event (median of 3)',
        detail: { minMs: Number(times[0]!.toFixed(1)), maxMs: Number(times[2]!.toFixed(1)), fillPerSec: Math.round(fillRate), fillLoadCpuPct: Math.round(fillLoad) },
        loadCpuPct: resumeLoad, notes: [],
      });
    }
  } finally {
    await herald.stop();
    await cluster.stop();
  }
  return rows;
}

/** R4: publish on one process, delivery on another, at a fixed rate over many topics. */
export async function latency(ctx: RedisBenchContext, buckets: number | undefined, build: HeraldBuild = ctx.builds[0]!): Promise<RedisRow> {
  const cluster = await startBenchCluster(3, ctx.serverCpus);
  const run = { cpus: ctx.serverCpus, lifetimeSeconds: ctx.lifetimeSeconds, ...(build.cli === undefined ? {} : { cli: build.cli }) };
  const extra = bucketArgs(buckets);
  const [publisher, receiver] = await Promise.all([startHerald(cluster.topology.url, 'bench-r4:', extra, run), startHerald(cluster.topology.url, 'bench-r4:', extra, run)]);
  const samples: number[] = [];
  const sentAt = new Map<string, number>();
  try {
    const stream = await readStream(`${receiver.url}/.well-known/mercure?topic=${encodeURIComponent('https://bench.example/t/{n}')}`, {}, (id) => {
      const sent = sentAt.get(id);
      if (sent !== undefined) samples.push(performance.now() - sent);
    });
    const total = ctx.sizes.latencySeconds * ctx.sizes.latencyRate;
    let failed = 0;
    const load = loadCpuWindow();
    const others = othersOnServerCpu(ctx.serverCpus, [...cluster.pids, publisher.pid, receiver.pid]);
    const [cpuBefore, countsBefore, heraldBefore] = [await cluster.masterCpuUs(), await cluster.masterCounts(), publisher.cpuUs() + receiver.cpuUs()];
    const started = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / ctx.sizes.latencyRate - performance.now();
      if (due > 1) await sleep(due);
      const id = `lat-${i}`;
      sentAt.set(id, performance.now());
      inFlight.push(publishOne(publisher, { topic: topic(i), id, data: '' }).then((status) => void (status === 200 || failed++)));
    }
    await Promise.all(inFlight);
    const deadline = performance.now() + 10_000;
    while (samples.length < total - failed && performance.now() < deadline) await sleep(50);
    // At a trickle, what the merge's ticks cost Redis beside the publishes themselves.
    const redisUs = (await cluster.masterCpuUs()).reduce((sum, after, i) => sum + after - cpuBefore[i]!, 0) / total;
    const counts = await cluster.masterCounts();
    const heraldUs = (publisher.cpuUs() + receiver.cpuUs() - heraldBefore) / total;
    const loadPct = load();
    stream.close();
    const sorted = [...samples].sort((a, b) => a - b);
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
    return {
      scenario: 'R4', label: `${buckets === undefined ? 'one log slot (today)' : `${buckets} bucket${buckets > 1 ? 's' : ''}`}${nameOf(ctx, build)}`, value: at(0.5), unit: 'ms p50 publish -> other process',
      detail: { p99Ms: Number(at(0.99).toFixed(2)), redisUsPerPublish: Number(redisUs.toFixed(2)), heraldUsPerPublish: Number(heraldUs.toFixed(1)),
        redisCommandsPerPublish: Number(((counts.commands - countsBefore.commands) / total).toFixed(1)), redisReadsPerPublish: Number(((counts.reads - countsBefore.reads) / total).toFixed(1)), delivered: samples.length, lost: total - failed - samples.length, failedPublishes: failed, rate: ctx.sizes.latencyRate, othersOnServerCpuPct: Math.round(others()) },
      loadCpuPct: loadPct, notes: [],
    };
  } finally {
    await Promise.all([publisher.stop(), receiver.stop()]);
    await cluster.stop();
  }
}

function nameOf(ctx: RedisBenchContext, build: HeraldBuild): string {
  return build === ctx.builds[0] ? '' : ` ${build.name}`;
}
