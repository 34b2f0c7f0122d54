// A quick measurement (not a test, no asserts) of history reads on the Redis broker:
// a rare topic's resume (Last-Event-ID) and its "recent N", with the per-topic index
// (the `topics` hint) and without (the scan), at several log sizes; and the publish
// script's Redis CPU from INFO commandstats. Starts its own redis-server on a free port.
//
//   node --import tsx bench/redis-history.ts [--buckets N] [sizes...]   (default 10000 200000 1000000)
import { startStandaloneRedis } from '../src/broker/redis/topology-kit.js';
import { createRedisBroker, type RedisBroker } from '../src/broker/redis/redis-broker.js';
import type { Update } from '../src/broker/types.js';

const args = process.argv.slice(2);
const bucketsAt = args.indexOf('--buckets');
const logBuckets = bucketsAt >= 0 ? Number(args.splice(bucketsAt, 2)[1]) : 1;
const sizes = args.map(Number).filter((n) => n > 0);
const SIZES = sizes.length > 0 ? sizes : [10_000, 200_000, 1_000_000];
const SCAN_UP_TO = 200_000;
const RUNS = 20;
const data = 'x'.repeat(200);

const redis = await startStandaloneRedis();
const port = redis.server.port;
const admin = redis.server.client();

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function time(run: () => Promise<unknown>, runs = RUNS): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    await run();
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return median(samples);
}

async function fill(broker: RedisBroker, from: number, to: number): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  for (let i = from; i < to; i++) {
    // one rare-topic update every 5000, the rest on 100 busy topics
    const topic = i % 5000 === 2500 ? 'urn:rare' : `urn:busy:${i % 100}`;
    const update: Update = { id: `u${i}`, topics: [topic], data, private: false };
    const p = broker.publish(update).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 256) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

async function publishCpu(): Promise<string> {
  const info = await admin.info('commandstats');
  const line = info.split('\n').find((l) => l.startsWith('cmdstat_evalsha:'));
  return line?.match(/usec_per_call=([\d.]+)/)?.[1] ?? '?';
}

const broker = await createRedisBroker({ url: `redis://127.0.0.1:${port}/0`, prefix: 'bench:', retention: { maxPerTopic: 0, maxAgeSeconds: 0, maxTotal: 2_000_000 }, logBuckets });
try {
  let filled = 0;
  for (const size of SIZES) {
    await admin.config('RESETSTAT');
    const started = Date.now();
    await fill(broker, filled, size);
    const fillMs = Date.now() - started;
    filled = size;
    const rare = (u: Update): boolean => u.topics.includes('urn:rare');
    // Resume from the second newest rare update: one update to return, the whole log to skip.
    const recent = await broker.history({ filter: rare, topics: ['urn:rare'], limit: 2 });
    const resumeFrom = recent.updates[0]?.id ?? null;
    const resumeIndexed = await time(() => broker.history({ filter: rare, topics: ['urn:rare'], afterId: resumeFrom, limit: 1000, oldestFirst: true }));
    const recentIndexed = await time(() => broker.history({ filter: rare, topics: ['urn:rare'], limit: 10 }));
    const absentIndexed = await time(() => broker.history({ filter: () => false, topics: ['urn:absent'], limit: 10 }));
    const scans = size <= SCAN_UP_TO
      ? `; scan: recent 10 ${(await time(() => broker.history({ filter: rare, limit: 10 }), 3)).toFixed(1)} ms, absent topic ${(await time(() => broker.history({ filter: () => false, limit: 10 }), 3)).toFixed(1)} ms`
      : '';
    const memory = (await admin.info('memory')).match(/used_memory:(\d+)/)?.[1];
    console.log(`${logBuckets} bucket(s), ${size} kept (filled in ${fillMs} ms, publish script ${await publishCpu()} µs/call on Redis, used_memory ${(Number(memory) / 1e6).toFixed(0)} MB): ` +
      `index: rare resume ${resumeIndexed.toFixed(2)} ms, rare recent 10 ${recentIndexed.toFixed(2)} ms, absent topic ${absentIndexed.toFixed(2)} ms${scans}`);
  }
} finally {
  await broker.close();
  await redis.stop();
}
