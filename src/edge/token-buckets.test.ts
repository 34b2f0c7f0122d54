import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBuckets } from './token-buckets.js';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('TokenBuckets', () => {
  test('a burst passes, then the sustained rate; Retry-After says when the next fits', () => {
    const time = clock();
    const buckets = new TokenBuckets(10, 5, time.now);
    assert.deepEqual(Array.from({ length: 6 }, () => buckets.take('a').allowed), [true, true, true, true, true, false]);
    assert.equal(buckets.take('b').allowed, true, 'keys are independent');
    time.advance(99);
    assert.equal(buckets.take('a').allowed, false);
    time.advance(1);
    assert.equal(buckets.take('a').allowed, true, 'one token after 100 ms at 10/s');
  });

  test('a batch costs its size; one larger than the burst is refused, not queued', () => {
    const time = clock();
    const buckets = new TokenBuckets(2, 5, time.now);
    assert.deepEqual(buckets.take('a', 4), { allowed: true, retryAfterSeconds: 0 });
    assert.deepEqual(buckets.take('a', 3), { allowed: false, retryAfterSeconds: 1 }, '1 left, 2 missing at 2/s');
    assert.equal(buckets.take('a', 6).allowed, false);
    time.advance(60_000);
    assert.equal(buckets.take('a', 6).allowed, false, 'never past the burst');
    assert.equal(buckets.take('a', 5).allowed, true);
  });

  test('a flood of new keys stays bounded', () => {
    const time = clock();
    const buckets = new TokenBuckets(1, 1, time.now, 100);
    for (let i = 0; i < 10_000; i++) buckets.take(`k${i}`);
    assert.ok(buckets.size <= 101, `${buckets.size} buckets`);
  });
});
