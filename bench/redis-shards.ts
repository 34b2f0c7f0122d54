// A quick measurement (not a test, no asserts) of the sharded Redis log against the
// unsharded one on one standalone redis-server (its own, on a free port): publish
// latency, publish -> listener latency on another process (the merge's hold-back and
// ticks), and Redis CPU per publish from INFO commandstats (all scripts: claim, bucket
// publish, release, ticks). A standalone server has one core: this shows costs, not the
// Cluster's scaling.
//
//   node --import tsx bench/redis-shards.ts [buckets...]   (default 1 4 16)
import { startStandaloneRedis } from '../src/broker/redis/topology-kit.js';
import { createRedisBroker } from '../src/broker/redis/redis-broker.js';
import type { Update } from '../src/broker/types.js';

const counts = process.argv.slice(2).map(Number).filter((n) => n > 0);
const BUCKETS = counts.length > 0 ? counts : [1, 4, 16];
const PUBLISHES = 3000;
const data = 'x'.repeat(200);

const redis = await startStandaloneRedis();
const port = redis.server.port;
const admin = redis.server.client();

const pct = (values: number[], p: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))] ?? NaN;

/** Script calls and their CPU, all commands (a script's inner calls included) and read events (requests or pipelines read) so far. */
async function scriptStats(): Promise<{ calls: number; usec: number; commands: number; reads: number }> {
  const info = await admin.info('commandstats');
  let calls = 0;
  let usec = 0;
  let commands = 0;
  for (const line of info.split('\n')) {
    const m = line.match(/^cmdstat_([a-z|]+):calls=(\d+),usec=(\d+)/);
    if (!m) continue;
    commands += Number(m[2]);
    if (m[1] === 'evalsha' || m[1] === 'eval') {
      calls += Number(m[2]);
      usec += Number(m[3]);
    }
  }
  const reads = Number(/total_reads_processed:(\d+)/.exec(await admin.info('stats'))?.[1] ?? NaN);
  return { calls, usec, commands, reads };
}

try {
  for (const logBuckets of BUCKETS) {
    const options = { url: `redis://127.0.0.1:${port}/0`, prefix: `shards-${logBuckets}:`, retention: { maxPerTopic: 0, maxAgeSeconds: 0, maxTotal: 1_000_000 }, logBuckets };
    const publisher = await createRedisBroker(options);
    const follower = await createRedisBroker(options);
    const sentAt = new Map<string, number>();
    const delivery: number[] = [];
    let received = 0;
    let all: () => void = () => {};
    const done = new Promise<void>((resolve) => (all = resolve));
    follower.onUpdate((u) => {
      const at = sentAt.get(u.id);
      if (at !== undefined) delivery.push(performance.now() - at);
      if (++received === PUBLISHES) all();
    });
    await admin.config('RESETSTAT');
    const latency: number[] = [];
    for (let i = 0; i < PUBLISHES; i++) {
      const update: Update = { id: `u${i}`, topics: [`urn:topic:${i % 100}`], data, private: false };
      const started = performance.now();
      sentAt.set(update.id, started);
      await publisher.publish(update);
      latency.push(performance.now() - started);
    }
    await done;
    const { calls, usec, commands, reads } = await scriptStats();
    // Then a burst: 256 publishes in flight, so ticks cover batches.
    await admin.config('RESETSTAT');
    const burst = 20_000;
    let burstReceived = 0;
    let burstDone: () => void = () => {};
    const burstArrived = new Promise<void>((resolve) => (burstDone = resolve));
    follower.onUpdate((u) => {
      if (u.id.startsWith('b') && ++burstReceived === burst) burstDone();
    });
    const burstStarted = performance.now();
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < burst; i++) {
      const p = publisher.publish({ id: `b${i}`, topics: [`urn:topic:${i % 100}`], data, private: false }).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= 256) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    await burstArrived;
    const burstMs = performance.now() - burstStarted;
    const burstStats = await scriptStats();
    console.log(`${logBuckets} bucket(s): publish p50 ${pct(latency, 50).toFixed(2)} ms p99 ${pct(latency, 99).toFixed(2)} ms; ` +
      `publish -> other process p50 ${pct(delivery, 50).toFixed(2)} ms p99 ${pct(delivery, 99).toFixed(2)} ms; ` +
      `Redis scripts per publish ${(calls / PUBLISHES).toFixed(2)}, script CPU per publish ${(usec / PUBLISHES).toFixed(1)} µs, ` +
      `commands ${(commands / PUBLISHES).toFixed(1)}, read events ${(reads / PUBLISHES).toFixed(1)} per publish; ` +
      `burst of ${burst} (256 in flight): ${Math.round(burst / (burstMs / 1000))}/s delivered, scripts per publish ${(burstStats.calls / burst).toFixed(2)}, script CPU per publish ${(burstStats.usec / burst).toFixed(1)} µs, commands ${(burstStats.commands / burst).toFixed(1)}, read events ${(burstStats.reads / burst).toFixed(1)} per publish`);
    await publisher.close();
    await follower.close();
  }
} finally {
  await redis.stop();
}
