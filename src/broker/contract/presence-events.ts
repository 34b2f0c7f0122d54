// Contract cases for presence events (publishPresence): one log order with messages,
// exactly-once live delivery, and a retention of their own that never evicts a
// message, however many there are.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeraldError } from '../../errors.js';
import type { BrokerFactory } from './kit.js';
import { allIds, ids, idRange, makeUpdate, ManualClock, Recorder, withBroker } from './kit.js';
import type { Broker, Update } from '../types.js';

/** A subscription event as the hub makes them: its own topic per subscription. */
export function presenceEvent(id: string): Update {
  return makeUpdate(id, `/.well-known/mercure/subscriptions/urn%3Aroom/urn%3Auuid%3A${id}`, { private: true });
}

async function after(broker: Broker, afterId: string): Promise<{ found: boolean; ids: string[] }> {
  const result = await broker.history({ afterId, filter: () => true, limit: 100_000 });
  return { found: result.found, ids: ids(result.updates) };
}

export function presenceEventCases(factory: BrokerFactory): void {
  test('presence events never evict messages: 2000 of them leave every kept message in place', { skip: factory.shardedCaps === true ? 'caps hold per shard (shardedCaps)' : false }, async () => {
    const retention = { maxPerTopic: 0, maxAgeSeconds: 0, maxTotal: 50, maxPresence: 3 };
    await withBroker(factory, { retention }, async ({ broker }) => {
      const recorder = new Recorder(broker);
      const messages = idRange('m', 1, 50);
      for (const id of messages) await broker.publish(makeUpdate(id, 'urn:quiet'));
      const churn = idRange('p', 1, 2000);
      await Promise.all(churn.map((id) => broker.publishPresence(presenceEvent(id))));
      await broker.publish(makeUpdate('m51', 'urn:quiet'));
      await broker.publishPresence(presenceEvent('p2001'));
      await recorder.waitForId('p2001');
      assert.deepEqual(recorder.ids, [...messages, ...churn, 'm51', 'p2001'], 'every event live, once, in log order');
      // m1 is the only message past maxTotal; the presence cap keeps the newest 3.
      assert.deepEqual(await allIds(broker), [...idRange('m', 2, 50), 'p1999', 'p2000', 'm51', 'p2001']);
      assert.deepEqual(await after(broker, 'm10'), { found: true, ids: [...idRange('m', 11, 50), 'p1999', 'p2000', 'm51', 'p2001'] });
      assert.deepEqual(await after(broker, 'p2000'), { found: true, ids: ['m51', 'p2001'] });
      assert.equal((await after(broker, 'p1500')).found, false, 'a presence event past its cap is unknown');
      assert.equal(await broker.lastEventId(), 'p2001');
    });
  });

  test('presence events: with maxPresence 0 they are delivered live, in log order, and never kept', async () => {
    const retention = { maxPerTopic: 0, maxAgeSeconds: 0, maxTotal: 100, maxPresence: 0 };
    await withBroker(factory, { retention }, async ({ broker }) => {
      const recorder = new Recorder(broker);
      await broker.publish(makeUpdate('m1', 'urn:t'));
      await broker.publishPresence(presenceEvent('p1'));
      await broker.publish(makeUpdate('m2', 'urn:t'));
      await broker.publishPresence(presenceEvent('p2'));
      await recorder.waitForId('p2');
      assert.deepEqual(recorder.ids, ['m1', 'p1', 'm2', 'p2']);
      assert.deepEqual(await allIds(broker), ['m1', 'm2']);
      assert.deepEqual(await after(broker, 'm1'), { found: true, ids: ['m2'] });
      assert.equal((await after(broker, 'p1')).found, false);
      assert.equal(await broker.lastEventId(), 'm2');
    });
  });

  test('presence events: maxPerTopic ignores them, and does not count them for the messages of their topic', async () => {
    const retention = { maxPerTopic: 2, maxAgeSeconds: 0, maxTotal: 100, maxPresence: 10 };
    await withBroker(factory, { retention }, async ({ broker }) => {
      const topic = '/.well-known/mercure/subscriptions/urn%3Aa/urn%3Auuid%3As';
      await broker.publishPresence(makeUpdate('join', topic));
      await broker.publishPresence(makeUpdate('leave', topic));
      await broker.publishPresence(makeUpdate('join2', topic));
      await broker.publish(makeUpdate('m1', 'urn:a'));
      assert.deepEqual(await allIds(broker), ['join', 'leave', 'join2', 'm1']);
    });
  });

  test('presence events: maxAgeSeconds applies to them; ids are unique across both classes', async () => {
    const clock = new ManualClock();
    const retention = { maxPerTopic: 0, maxAgeSeconds: 10, maxTotal: 100, maxPresence: 10 };
    await withBroker(factory, { retention, now: clock.now }, async ({ broker }) => {
      await broker.publishPresence(presenceEvent('old'));
      await broker.publish(makeUpdate('msg', 'urn:t'));
      const duplicate = (e: unknown): boolean => isHeraldError(e) && e.code === 'duplicate_id';
      await assert.rejects(broker.publishPresence(presenceEvent('msg')), duplicate);
      await assert.rejects(broker.publish(makeUpdate('old', 'urn:t')), duplicate);
      clock.advance(6_000);
      await broker.publishPresence(presenceEvent('new'));
      assert.deepEqual(await allIds(broker), ['old', 'msg', 'new']);
      clock.advance(6_000); // old and msg are 12 s old, new 6 s
      assert.deepEqual(await allIds(broker), ['new']);
      assert.equal((await after(broker, 'old')).found, false);
    });
  });

  test('presence events: a paging reader gets a message as its cursor, so presence churn cannot trim it away', { skip: factory.shardedCaps === true ? 'caps hold per shard (shardedCaps)' : false }, async () => {
    const retention = { maxPerTopic: 0, maxAgeSeconds: 0, maxTotal: 100, maxPresence: 3 };
    await withBroker(factory, { retention }, async ({ broker }) => {
      await broker.publish(makeUpdate('m1', 'urn:t'));
      await broker.publishPresence(presenceEvent('p1'));
      await broker.publishPresence(presenceEvent('p2'));
      await broker.publish(makeUpdate('m2', 'urn:t'));
      const messages = (u: Update): boolean => u.topics[0] === 'urn:t';
      const first = await broker.history({ afterId: null, filter: messages, limit: 10, oldestFirst: true, maxScan: 3 });
      assert.deepEqual([ids(first.updates), first.next], [['m1'], 'm1'], 'the cursor is the last message examined, not p2');
      await Promise.all(idRange('churn', 1, 20).map((id) => broker.publishPresence(presenceEvent(id))));
      const second = await broker.history({ afterId: first.next, filter: messages, limit: 10, oldestFirst: true, maxScan: 3 });
      assert.equal(second.found, true);
      assert.deepEqual(ids(second.updates), ['m2']);
      // Nothing but presence events in a slice: the cursor must move on anyway.
      const tail = await broker.history({ afterId: 'm2', filter: messages, limit: 10, oldestFirst: true, maxScan: 2 });
      assert.deepEqual([ids(tail.updates), tail.next], [[], 'churn19']);
    });
  });
}
