// Reconnection delays and token timing, with the randomness and the clock given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../src/backoff.js';
import { expiresAt, renewalDelay } from '../src/token.js';
import { mintToken, SUBSCRIBER_KEY } from '../../../test/support/herald.js';

test('backoff doubles from the base to the ceiling, jittered between half and all, and resets', () => {
  const low = new Backoff({ initialDelayMs: 1000, maxDelayMs: 8000 }, () => 0);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => low.next()), [500, 1000, 2000, 4000, 4000, 4000]);
  const high = new Backoff({ initialDelayMs: 1000, maxDelayMs: 8000 }, () => 1);
  assert.deepEqual([1, 2, 3, 4, 5].map(() => high.next()), [1000, 2000, 4000, 8000, 8000]);
  high.succeeded();
  assert.equal(high.next(), 1000);
  high.baseMs = 100; // the hub's retry:
  high.succeeded();
  assert.deepEqual([high.next(), high.next()], [100, 200]);
  assert.equal(high.next(5000), 5000); // a Retry-After is a floor
});

test('exp is read from a JWT without verifying it; anything else has none', async () => {
  const token = await mintToken({ mercure: { subscribe: ['*'] } }, SUBSCRIBER_KEY, { expiresIn: '60s' });
  const exp = expiresAt(token);
  assert.ok(exp !== undefined && Math.abs(exp - (Date.now() + 60_000)) < 5000);
  assert.equal(expiresAt(await mintToken({}, SUBSCRIBER_KEY)), undefined);
  for (const bad of ['', 'abc', 'a.b.c', 'a.!!!.c', `a.${btoa('{"exp":"soon"}')}.c`]) assert.equal(expiresAt(bad), undefined);
});

test('renewal comes a fifth of the remaining life early, at least 1 s and at most the lead', () => {
  assert.equal(renewalDelay(3000, 0, 30_000), 2000); // 3 s token: 1 s early
  assert.equal(renewalDelay(60_000, 0, 30_000), 48_000); // a fifth: 12 s early
  assert.equal(renewalDelay(3_600_000, 0, 30_000), 3_570_000); // capped at the lead
  assert.equal(renewalDelay(500, 0, 30_000), 0); // already too late: now
});
