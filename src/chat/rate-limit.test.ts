import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from './rate-limit.js';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

test('a burst of 10 passes, the 11th is refused with Retry-After 1', () => {
  const time = clock();
  const limiter = new RateLimiter({ perSecond: 5, burst: 10, now: time.now });
  const decisions = Array.from({ length: 11 }, () => limiter.take('alice'));
  assert.deepEqual(decisions.slice(0, 10).map((d) => d.allowed), Array(10).fill(true));
  assert.deepEqual(decisions[10], { allowed: false, retryAfterSeconds: 1 });
});

test('tokens come back at the sustained rate, never past the burst', () => {
  const time = clock();
  const limiter = new RateLimiter({ perSecond: 5, burst: 10, now: time.now });
  for (let i = 0; i < 10; i++) limiter.take('alice');
  time.advance(199);
  assert.equal(limiter.take('alice').allowed, false);
  time.advance(1);
  assert.equal(limiter.take('alice').allowed, true, 'one token after 200 ms');
  assert.equal(limiter.take('alice').allowed, false);
  time.advance(60_000);
  let allowed = 0;
  while (limiter.take('alice').allowed && allowed < 100) allowed++;
  assert.equal(allowed, 10);
});

test('keys are independent', () => {
  const time = clock();
  const limiter = new RateLimiter({ perSecond: 1, burst: 2, now: time.now });
  assert.equal(limiter.take('a').allowed, true);
  assert.equal(limiter.take('a').allowed, true);
  assert.equal(limiter.take('a').allowed, false);
  assert.equal(limiter.take('b').allowed, true);
});

test('a slow rate gives a longer Retry-After', () => {
  const time = clock();
  const limiter = new RateLimiter({ perSecond: 0.25, burst: 1, now: time.now });
  limiter.take('a');
  assert.deepEqual(limiter.take('a'), { allowed: false, retryAfterSeconds: 4 });
});

test('refilled buckets are forgotten and maxKeys bounds the map', () => {
  const time = clock();
  const limiter = new RateLimiter({ perSecond: 5, burst: 10, maxKeys: 3, now: time.now });
  for (const key of ['a', 'b', 'c', 'd', 'e']) limiter.take(key);
  assert.equal(limiter.size, 3);
  time.advance(2000);
  limiter.take('f');
  assert.equal(limiter.size, 1, 'the others were full again, so forgetting them changes nothing');
});
