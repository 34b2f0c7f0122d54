// A subscriber's replay state machine, driven through its named transitions only:
// live -> replaying -> live, and what the hand-off lets through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Update } from '../../broker/types.js';
import { compileMatcher, MatcherSet } from '../topics/selectors.js';
import { Subscriber, type SubscriberSink } from './subscriber.js';

const nowhere: SubscriberSink = { write: () => undefined, pendingBytes: () => 0, close: () => undefined };
const on = (id: string): Update => ({ id, topics: ['urn:t'], data: id, private: false });

function fresh(): Subscriber {
  return new Subscriber('urn:uuid:s', new MatcherSet([compileMatcher('urn:t', 'exact', 'https://hub.example')]), undefined, nowhere);
}

test('a replay holds live updates and hands back, in order, those after the last replayed one', () => {
  const subscriber = fresh();
  assert.equal(subscriber.mode, 'live');
  subscriber.startReplay();
  assert.equal(subscriber.mode, 'replaying');
  assert.equal(subscriber.hold({ update: on('2'), bytes: Buffer.from('abc') }), 3);
  assert.equal(subscriber.hold({ update: on('3'), bytes: Buffer.from('de') }), 5);
  subscriber.hold({ update: on('4'), bytes: Buffer.from('f') });
  assert.equal(subscriber.isHeld('3'), true);
  assert.equal(subscriber.isHeld('1'), false);
  // Pages read before 2 and 3 were delivered live: the replay sent them too.
  subscriber.noteReplayed([on('1'), on('2')]);
  subscriber.noteReplayed([on('3')]);
  assert.equal(subscriber.lastReplayed, '3');
  assert.deepEqual(subscriber.endReplay().map((held) => held.update.id), ['4'], 'held up to the last replayed id: sent already');
  assert.equal(subscriber.isHeld('4'), false, 'nothing is held after the replay');
  assert.equal(subscriber.mode, 'live');
  assert.equal(subscriber.lastReplayed, undefined, 'no replay state is kept once live');
});

test('when the last replayed id is not held (delivered before the subscriber registered), everything held goes out', () => {
  const subscriber = fresh();
  subscriber.startReplay();
  subscriber.hold({ update: on('5'), bytes: Buffer.from('x') });
  subscriber.hold({ update: on('6'), bytes: Buffer.from('y') });
  subscriber.noteReplayed([on('1'), on('2')]);
  assert.deepEqual(subscriber.endReplay().map((held) => held.update.id), ['5', '6']);
  assert.equal(subscriber.mode, 'live');
});

test('the replay keeps one id whatever its length: a structural bound, not a set of every replayed id', () => {
  const subscriber = fresh();
  subscriber.startReplay();
  for (let page = 0; page < 100; page++) subscriber.noteReplayed(Array.from({ length: 100 }, (_, i) => on(`${page * 100 + i}`)));
  const fields = Object.values(subscriber as unknown as Record<string, unknown>);
  assert.ok(!fields.some((value) => value instanceof Set && value.size > 0), 'no non-empty Set on a subscriber that held nothing');
  assert.ok(!fields.some((value) => Array.isArray(value) && value.length >= 100), 'no list growing with the replay');
  assert.equal(subscriber.lastReplayed, '9999');
  assert.deepEqual(subscriber.endReplay(), []);
});

test('a replay that sent nothing goes straight to live; a replay cannot start twice', () => {
  const subscriber = fresh();
  subscriber.startReplay();
  assert.throws(() => subscriber.startReplay(), /startReplay on a subscriber in mode replaying/);
  subscriber.endReplay();
  assert.equal(subscriber.mode, 'live');
});

test('closing is idempotent; a round visits a subscriber once; writes move its idle clock', () => {
  const subscriber = fresh();
  assert.equal(subscriber.markClosed(), true);
  assert.equal(subscriber.markClosed(), false);
  assert.equal(subscriber.closed, true);
  assert.equal(subscriber.firstVisit(7), true);
  assert.equal(subscriber.firstVisit(7), false);
  assert.equal(subscriber.firstVisit(8), true);
  assert.equal(subscriber.lastWriteAt, 0);
  subscriber.wrote(1234);
  assert.equal(subscriber.lastWriteAt, 1234);
  // Kept relative to an epoch, as an int32 while it fits: exact on both sides of that.
  const now = Date.now();
  for (const at of [now, now + 1, now + 2 ** 31 + 5, now - 2 ** 31 - 5]) {
    subscriber.wrote(at);
    assert.equal(subscriber.lastWriteAt, at);
  }
});
