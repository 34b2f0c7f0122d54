// A subscriber's replay state machine, driven through its named transitions only:
// live -> replaying -> dedupe -> live, and what each mode lets through.
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

test('a replay holds live updates, hands them back in order, then drops those it sent until the live stream passes them', () => {
  const subscriber = fresh();
  assert.equal(subscriber.mode, 'live');
  subscriber.startReplay();
  assert.equal(subscriber.mode, 'replaying');
  assert.equal(subscriber.hold({ update: on('3'), bytes: Buffer.from('abc') }), 3);
  assert.equal(subscriber.hold({ update: on('4'), bytes: Buffer.from('de') }), 5);
  assert.equal(subscriber.isHeld('3'), true);
  assert.equal(subscriber.isHeld('2'), false);
  subscriber.noteReplayed([on('1'), on('2'), on('3')]);
  assert.deepEqual(subscriber.endReplay().map((held) => held.update.id), ['3', '4']);
  assert.equal(subscriber.isHeld('3'), false, 'nothing is held after the replay');
  assert.equal(subscriber.mode, 'dedupe');
  assert.equal(subscriber.admitLive('2'), false, 'sent by the replay');
  assert.equal(subscriber.mode, 'dedupe');
  assert.equal(subscriber.admitLive('3'), false, 'the last one the replay sent');
  assert.equal(subscriber.mode, 'live', 'passing the last replayed id ends dedupe');
  assert.equal(subscriber.admitLive('3'), true, 'live lets everything through');
});

test('dedupe ends at the first live update the replay did not send', () => {
  const subscriber = fresh();
  subscriber.startReplay();
  subscriber.noteReplayed([on('1'), on('2')]);
  assert.deepEqual(subscriber.endReplay(), []);
  assert.equal(subscriber.admitLive('5'), true);
  assert.equal(subscriber.mode, 'live');
  assert.equal(subscriber.admitLive('1'), true, 'no replayed ids are kept once live');
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
});
