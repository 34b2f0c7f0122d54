// A probe (no asserts): the merged reader's publish -> other-process latency on a private
// 3-master Cluster, in one Node process, single publishes at a fixed rate over many topics,
// with the slowest deliveries printed. `node --import tsx bench/probe/merge-latency.ts [buckets] [rate] [seconds]`
import { setTimeout as sleep } from 'node:timers/promises';
import { startClusterTopology } from '../../src/broker/redis/topology-kit.js';
import { createRedisBroker } from '../../src/broker/redis/redis-broker.js';

const [buckets = 16, rate = 500, seconds = 6] = process.argv.slice(2).map(Number);
const cluster = await startClusterTopology({ masters: 3 });
const options = { url: cluster.url, prefix: 'probe:', retention: { maxPerTopic: 0, maxAgeSeconds: 0, maxTotal: 100_000 }, logBuckets: buckets };
const publisher = await createRedisBroker(options);
const follower = await createRedisBroker(options);
const sentAt = new Map<string, number>();
const samples: [number, number][] = [];
follower.onUpdate((u) => {
  const at = sentAt.get(u.id);
  if (at !== undefined) samples.push([performance.now() - at, Number(u.id.slice(1))]);
});
const total = rate * seconds;
const acked: number[] = [];
const started = performance.now();
const inFlight: Promise<void>[] = [];
for (let i = 0; i < total; i++) {
  const due = started + (i * 1000) / rate - performance.now();
  if (due > 1) await sleep(due);
  sentAt.set(`u${i}`, performance.now());
  const t0 = performance.now();
  inFlight.push(publisher.publish({ id: `u${i}`, topics: [`https://bench.example/t/${i % 1000}`], data: '', private: false }).then(() => void acked.push(performance.now() - t0)));
}
await Promise.all(inFlight);
const deadline = performance.now() + 5000;
while (samples.length < total && performance.now() < deadline) await sleep(20);
const sorted = samples.map((s) => s[0]).sort((a, b) => a - b);
const at = (q: number): string => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN).toFixed(2);
process.stdout.write(`buckets ${buckets}, ${rate}/s: delivered ${samples.length}/${total}, p50 ${at(0.5)} p90 ${at(0.9)} p99 ${at(0.99)} max ${at(1)} ms\n`);
const ack = [...acked].sort((a, b) => a - b);
process.stdout.write(`publish acknowledged: p50 ${ack[Math.floor(ack.length / 2)]!.toFixed(2)} p99 ${ack[Math.floor(ack.length * 0.99)]!.toFixed(2)} ms\n`);
const slow = [...samples].sort((a, b) => b[0] - a[0]).slice(0, 8);
process.stdout.write(`slowest: ${slow.map(([ms, i]) => `u${i} ${ms.toFixed(0)}`).join(', ')}\n`);
await Promise.all([publisher.close(), follower.close()]);
await cluster.stop();
