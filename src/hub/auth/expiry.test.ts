import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lifetimeEnd, TokenExpiry } from './expiry.js';
import { MatcherSet } from '../topics/matcher-set.js';
import { Subscriber, type SubscriberSink } from '../fanout/subscriber.js';

const sink: SubscriberSink = { write: () => undefined, pendingBytes: () => 0, close: () => undefined };

function subscriber(id: string, expiresAt?: number): Subscriber {
  const claims = { publish: null, subscribe: null, ...(expiresAt === undefined ? {} : { expiresAt }) };
  return new Subscriber(id, new MatcherSet([]), claims, sink);
}

function setup(start = 1_000_000) {
  let t = start;
  const expired: string[] = [];
  const expiry = new TokenExpiry({ intervalMs: 1000, now: () => t, onExpired: (s) => expired.push(s.id) });
  return { expiry, expired, advance: (ms: number) => (t += ms) };
}

test('a subscriber expires at the first sweep at or after its exp, never before', () => {
  const { expiry, expired, advance } = setup(1_000_000);
  expiry.track(subscriber('a', 1_002_500));
  expiry.track(subscriber('b', 1_001_000));
  advance(999);
  assert.equal(expiry.sweep(), 0);
  advance(1); // t = 1 001 000: b's exp
  assert.equal(expiry.sweep(), 1);
  assert.deepEqual(expired, ['b']);
  advance(1499); // t = 1 002 499: a not yet
  assert.equal(expiry.sweep(), 0);
  advance(501); // t = 1 003 000: the bucket of 1 002 500
  assert.equal(expiry.sweep(), 1);
  assert.deepEqual(expired, ['b', 'a']);
  assert.equal(expiry.size, 0);
  expiry.stop();
});

test('tokens without exp are not tracked; untracked subscribers never expire', () => {
  const { expiry, expired, advance } = setup();
  const left = subscriber('left', 1_001_000);
  expiry.track(subscriber('forever'));
  expiry.track(left);
  assert.equal(expiry.size, 1);
  expiry.untrack(left);
  advance(10_000);
  assert.equal(expiry.sweep(), 0);
  assert.deepEqual(expired, []);
  expiry.stop();
});

test('an already expired token is caught by the next sweep, and a stall does not skip buckets', () => {
  const { expiry, expired, advance } = setup(1_000_000);
  expiry.track(subscriber('late', 900_000));
  expiry.track(subscriber('soon', 1_003_000));
  expiry.track(subscriber('later', 1_007_000));
  advance(1000);
  assert.equal(expiry.sweep(), 1);
  advance(60_000); // one sweep after a long pause takes both remaining buckets
  assert.equal(expiry.sweep(), 2);
  assert.deepEqual(expired, ['late', 'soon', 'later']);
  expiry.stop();
});

test('10 000 subscribers in one bucket expire in one sweep, each once', () => {
  const { expiry, expired, advance } = setup(1_000_000);
  for (let i = 0; i < 10_000; i++) expiry.track(subscriber(`s${i}`, 1_000_500));
  advance(1000);
  assert.equal(expiry.sweep(), 10_000);
  advance(1000);
  assert.equal(expiry.sweep(), 0);
  assert.equal(new Set(expired).size, 10_000);
  expiry.stop();
});

test('a lifetime end (--max-connection-lifetime) ends a stream before a later exp, and one without exp', () => {
  const { expiry, expired, advance } = setup(1_000_000);
  expiry.track(subscriber('exp-later', 1_010_000), 1_002_000);
  expiry.track(subscriber('no-exp'), 1_003_000);
  expiry.track(subscriber('exp-first', 1_001_000), 1_005_000);
  advance(1000);
  expiry.sweep();
  assert.deepEqual(expired, ['exp-first'], 'the token expires before its lifetime');
  advance(1000);
  expiry.sweep();
  assert.deepEqual(expired, ['exp-first', 'exp-later'], 'the lifetime ends before the token');
  advance(1000);
  expiry.sweep();
  assert.deepEqual(expired, ['exp-first', 'exp-later', 'no-exp']);
  expiry.stop();
});

test('lifetimeEnd spreads the end over the last 10% of the lifetime', () => {
  assert.equal(lifetimeEnd(1000, 60_000, 0), 61_000);
  assert.equal(lifetimeEnd(1000, 60_000, 0.5), 58_000);
  assert.equal(lifetimeEnd(1000, 60_000, 0.999999), 55_000);
  for (let i = 0; i < 100; i++) {
    const end = lifetimeEnd(0, 10_000);
    assert.ok(end >= 9_000 && end <= 10_000, String(end));
  }
});
