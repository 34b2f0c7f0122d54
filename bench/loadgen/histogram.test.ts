// Unit tests of the bench latency histogram: bucket bounds contain their values,
// percentiles stay within the bucket resolution, merging adds counts.
// Run: node --import tsx --test bench/*.test.ts bench/loadgen/*.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUCKETS, Histogram, bucketOf, bucketRange } from './histogram.js';

test('every value falls inside the range of its bucket, buckets are monotonic', () => {
  let previous = -1;
  for (const v of [0, 1, 63, 64, 65, 100, 1000, 4095, 4096, 123_456, 10_000_000, 2 ** 31 - 1]) {
    const i = bucketOf(v);
    const [low, high] = bucketRange(i);
    assert.ok(low <= v && v < high, `${v} in [${low}, ${high})`);
    assert.ok(i >= previous && i < BUCKETS);
    previous = i;
  }
  assert.equal(bucketOf(-5), 0);
  assert.equal(bucketOf(2 ** 40), BUCKETS - 1);
});

test('percentiles of 1..10000 µs are within 3.2% of the exact values', () => {
  const h = new Histogram();
  for (let v = 1; v <= 10_000; v++) h.record(v);
  assert.equal(h.total, 10_000);
  for (const [fraction, exact] of [[0.5, 5000], [0.99, 9900], [0.999, 9990]] as const) {
    const got = h.percentile(fraction);
    assert.ok(Math.abs(got - exact) / exact < 0.032, `p${fraction * 100}: ${got} vs ${exact}`);
  }
});

test('merging bucket arrays adds counts; an empty histogram has no percentile', () => {
  const a = new Histogram();
  const b = new Histogram();
  a.record(10);
  b.record(10);
  b.record(2000);
  const merged = new Histogram(a.toArray());
  merged.add(b.toArray());
  assert.equal(merged.total, 3);
  assert.equal(merged.percentile(0.5), 10);
  assert.ok(Math.abs(merged.percentile(1) - 2000) < 64);
  assert.ok(Number.isNaN(new Histogram().percentile(0.5)));
});
