import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { LimitLog, StreamCounter } from './limits.js';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('StreamCounter', () => {
  test('per key and total limits; release is idempotent and frees the slot', () => {
    const counter = new StreamCounter(2, 3);
    const a1 = counter.acquire('a');
    const a2 = counter.acquire('a');
    assert.equal(counter.acquire('a'), 'per-key');
    const b1 = counter.acquire('b');
    assert.equal(counter.acquire('c'), 'total');
    assert.equal(typeof a1, 'function');
    if (typeof a1 !== 'function' || typeof a2 !== 'function' || typeof b1 !== 'function') return;
    a1();
    a1();
    assert.equal(counter.size, 2);
    assert.equal(counter.count('a'), 1);
    assert.equal(typeof counter.acquire('c'), 'function');
    a2();
    b1();
    assert.equal(counter.count('a'), 0);
  });

  test('0 means no limit', () => {
    const counter = new StreamCounter(0, 0);
    for (let i = 0; i < 1000; i++) assert.equal(typeof counter.acquire('a'), 'function');
    assert.equal(counter.size, 1000);
  });
});

describe('LimitLog', () => {
  test('logs a limit once per client and window, then reports how many it kept quiet', () => {
    const time = clock();
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) });
    const log = new LimitLog(pino({ level: 'info' }, sink), 60_000, time.now);
    const logged = [log.note('rate_limited', '10.0.0.1'), log.note('rate_limited', '10.0.0.1'), log.note('rate_limited', '10.0.0.2'), log.note('payload_too_large', '10.0.0.1')];
    assert.deepEqual(logged, [true, false, true, true]);
    for (let i = 0; i < 5; i++) log.note('rate_limited', '10.0.0.1');
    time.advance(60_000);
    assert.equal(log.note('rate_limited', '10.0.0.1'), true);
    assert.deepEqual(lines.map((l) => [l.limit, l.client, l.suppressedSinceLast]), [
      ['rate_limited', '10.0.0.1', 0],
      ['rate_limited', '10.0.0.2', 0],
      ['payload_too_large', '10.0.0.1', 0],
      ['rate_limited', '10.0.0.1', 6],
    ]);
  });
});
