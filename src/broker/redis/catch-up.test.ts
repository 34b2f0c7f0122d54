// The waits behind Broker.caughtUp, without Redis: a target is read after each call
// (never reused from a read that started before it), calls made during a read share
// the next one, and a wait ends when the position reaches its target, at stop(), or
// fails past its deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHeraldError } from '../../errors.js';
import { CatchUpWaiters } from './catch-up.js';

/** A target read that the test answers by hand, counting reads. */
function reads(): { read: () => Promise<number>; started: number; answer: (value: number) => void } {
  const pending: Array<(value: number) => void> = [];
  const state = {
    started: 0,
    read: (): Promise<number> => {
      state.started++;
      return new Promise<number>((resolve) => pending.push(resolve));
    },
    answer: (value: number): void => pending.shift()!(value),
  };
  return state;
}

test('calls made while a target read is in flight share the next read, made after them', async () => {
  let position = 0;
  const waiters = new CatchUpWaiters<number>((target) => position >= target);
  const source = reads();
  const first = waiters.catchUp(source.read);
  assert.equal(source.started, 1);
  const later = Array.from({ length: 10 }, () => waiters.catchUp(source.read));
  assert.equal(source.started, 1, 'no read per call while one is in flight');
  source.answer(5);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(source.started, 2, 'one more read, started after the first ended: it covers the ten calls');
  source.answer(8);
  await new Promise((resolve) => setImmediate(resolve));
  let settled = 0;
  for (const wait of [first, ...later]) void wait.then(() => settled++);
  position = 5;
  waiters.check();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(settled, 1, 'the first call waits for 5 only');
  position = 8;
  waiters.check();
  await Promise.all(later);
  assert.equal(settled, 11);
  await waiters.catchUp(async () => 3);
});

test('a wait fails with store_unavailable past its deadline, and stop() ends every wait', async () => {
  const waiters = new CatchUpWaiters<number>(() => false, 30);
  await assert.rejects(waiters.catchUp(async () => 1), (error: unknown) => isHeraldError(error) && error.code === 'store_unavailable');
  const stopping = new CatchUpWaiters<number>(() => false, 60_000);
  const pending = stopping.catchUp(async () => 1);
  await new Promise((resolve) => setImmediate(resolve));
  stopping.stop();
  await pending;
});
