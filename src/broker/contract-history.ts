// Contract cases for reading the kept log: the afterId/beforeId bounds (both
// exclusive), unknown bounds, the limit keeping the NEWEST matches, the filter, and
// lastEventId.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrokerFactory } from './contract-kit.js';
import { ids, makeUpdate, withBroker } from './contract-kit.js';
import type { Broker, HistoryQuery } from './types.js';

const all = (): boolean => true;

/** u1..u6: u2 on another topic, u4 private. */
async function publishSix(broker: Broker): Promise<void> {
  await broker.publish(makeUpdate('u1', 'urn:a'));
  await broker.publish(makeUpdate('u2', 'urn:b'));
  await broker.publish(makeUpdate('u3', ['urn:a', 'urn:b']));
  await broker.publish(makeUpdate('u4', 'urn:a', { private: true }));
  await broker.publish(makeUpdate('u5', ['urn:c', 'urn:a']));
  await broker.publish(makeUpdate('u6', 'urn:a'));
}

async function query(broker: Broker, q: Partial<HistoryQuery>): Promise<[string[], boolean, boolean]> {
  const result = await broker.history({ filter: all, limit: 100, ...q });
  return [ids(result.updates), result.found, result.truncated];
}

export function historyCases(factory: BrokerFactory): void {
  test('history: afterId is exclusive; null or absent means from the earliest kept', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      await publishSix(broker);
      const everything = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
      assert.deepEqual(await query(broker, {}), [everything, true, false]);
      assert.deepEqual(await query(broker, { afterId: null }), [everything, true, false]);
      assert.deepEqual(await query(broker, { afterId: 'u1' }), [['u2', 'u3', 'u4', 'u5', 'u6'], true, false]);
      assert.deepEqual(await query(broker, { afterId: 'u4' }), [['u5', 'u6'], true, false]);
      assert.deepEqual(await query(broker, { afterId: 'u6' }), [[], true, false]);
    });
  });

  test('history: an unknown afterId or beforeId gives found=false and no updates', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      assert.deepEqual(await query(broker, { afterId: 'nope' }), [[], false, false]);
      await publishSix(broker);
      assert.deepEqual(await query(broker, { afterId: 'nope' }), [[], false, false]);
      assert.deepEqual(await query(broker, { afterId: 'U1' }), [[], false, false]);
      assert.deepEqual(await query(broker, { beforeId: 'nope' }), [[], false, false]);
      assert.deepEqual(await query(broker, { afterId: 'u1', beforeId: 'nope' }), [[], false, false]);
    });
  });

  test('history: beforeId is exclusive and combines with afterId', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      await publishSix(broker);
      assert.deepEqual(await query(broker, { beforeId: 'u4' }), [['u1', 'u2', 'u3'], true, false]);
      assert.deepEqual(await query(broker, { beforeId: 'u1' }), [[], true, false]);
      assert.deepEqual(await query(broker, { afterId: 'u2', beforeId: 'u6' }), [['u3', 'u4', 'u5'], true, false]);
      assert.deepEqual(await query(broker, { afterId: 'u3', beforeId: 'u4' }), [[], true, false]);
      assert.deepEqual(await query(broker, { afterId: 'u5', beforeId: 'u2' }), [[], true, false]);
    });
  });

  test('history: limit keeps the NEWEST matches, oldest first, and says it truncated', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      await publishSix(broker);
      assert.deepEqual(await query(broker, { limit: 2 }), [['u5', 'u6'], true, true]);
      assert.deepEqual(await query(broker, { limit: 5 }), [['u2', 'u3', 'u4', 'u5', 'u6'], true, true]);
      assert.deepEqual(await query(broker, { limit: 6 }), [['u1', 'u2', 'u3', 'u4', 'u5', 'u6'], true, false]);
      assert.deepEqual(await query(broker, { afterId: 'u1', limit: 5 }), [['u2', 'u3', 'u4', 'u5', 'u6'], true, false]);
      assert.deepEqual(await query(broker, { afterId: 'u1', beforeId: 'u6', limit: 2 }), [['u4', 'u5'], true, true]);
    });
  });

  test('history: the filter drops private and other-topic updates, and limit counts only matches', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      await publishSix(broker);
      const publicOnA = (u: { topics: readonly string[]; private: boolean }): boolean =>
        !u.private && u.topics.includes('urn:a');
      assert.deepEqual(await query(broker, { filter: publicOnA }), [['u1', 'u3', 'u5', 'u6'], true, false]);
      assert.deepEqual(await query(broker, { filter: publicOnA, limit: 3 }), [['u3', 'u5', 'u6'], true, true]);
      assert.deepEqual(await query(broker, { filter: publicOnA, limit: 4 }), [['u1', 'u3', 'u5', 'u6'], true, false]);
      assert.deepEqual(await query(broker, { filter: publicOnA, afterId: 'u2' }), [['u3', 'u5', 'u6'], true, false]);
      // The filter sees whole updates: an alternate topic matches as well as the canonical one.
      const onB = (u: { topics: readonly string[] }): boolean => u.topics.includes('urn:b');
      assert.deepEqual(await query(broker, { filter: onB }), [['u2', 'u3'], true, false]);
      assert.deepEqual(await query(broker, { filter: () => false }), [[], true, false]);
    });
  });

  test('lastEventId is null on an empty log, then the newest id', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      assert.equal(await broker.lastEventId(), null);
      assert.deepEqual(await query(broker, {}), [[], true, false]);
      await broker.publish(makeUpdate('first', 'urn:a'));
      assert.equal(await broker.lastEventId(), 'first');
      await publishSix(broker);
      assert.equal(await broker.lastEventId(), 'u6');
    });
  });
}
