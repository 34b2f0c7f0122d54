// Contract cases for retention: a count per canonical topic, a maximum age (on the
// injected clock, and enforced on read, not only when the next update comes) and a
// cap on the whole log. A trimmed id is unknown from then on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrokerFactory } from './kit.js';
import { allIds, idRange, makeUpdate, ManualClock, withBroker } from './kit.js';
import type { Broker } from '../types.js';

async function found(broker: Broker, afterId: string): Promise<boolean> {
  return (await broker.history({ afterId, filter: () => true, limit: 100 })).found;
}

export function retentionCases(factory: BrokerFactory): void {
  test('retention: at most maxPerTopic updates per canonical topic; alternates do not count', async () => {
    const retention = { maxPerTopic: 3, maxAgeSeconds: 0, maxTotal: 1000 };
    await withBroker(factory, { retention }, async ({ broker }) => {
      await broker.publish(makeUpdate('A1', 'urn:a'));
      await broker.publish(makeUpdate('B1', 'urn:b'));
      await broker.publish(makeUpdate('A2', ['urn:a', 'urn:b']));
      await broker.publish(makeUpdate('X1', ['urn:x', 'urn:a']));
      await broker.publish(makeUpdate('A3', 'urn:a'));
      await broker.publish(makeUpdate('A4', 'urn:a'));
      await broker.publish(makeUpdate('B2', 'urn:b'));
      await broker.publish(makeUpdate('A5', 'urn:a'));
      assert.deepEqual(await allIds(broker), ['B1', 'X1', 'A3', 'A4', 'B2', 'A5']);
      assert.equal(await found(broker, 'A1'), false);
      assert.equal(await found(broker, 'A2'), false);
      assert.equal(await found(broker, 'B1'), true);
      assert.equal(await broker.lastEventId(), 'A5');
    });
  });

  test('retention: a hot topic is trimmed without touching a quiet one', async () => {
    const retention = { maxPerTopic: 5, maxAgeSeconds: 0, maxTotal: 1000 };
    await withBroker(factory, { retention }, async ({ broker }) => {
      await broker.publish(makeUpdate('quiet', 'urn:quiet'));
      await Promise.all(idRange('hot', 1, 300).map((id) => broker.publish(makeUpdate(id, 'urn:hot'))));
      assert.deepEqual(await allIds(broker), ['quiet', ...idRange('hot', 296, 300)]);
    });
  });

  test('retention: updates older than maxAgeSeconds are gone from history, even with no new publish', async () => {
    const clock = new ManualClock();
    const retention = { maxPerTopic: 0, maxAgeSeconds: 10, maxTotal: 1000 };
    await withBroker(factory, { retention, now: clock.now }, async ({ broker }) => {
      await broker.publish(makeUpdate('old', 'urn:a'));
      clock.advance(4_000);
      await broker.publish(makeUpdate('mid', 'urn:b'));
      clock.advance(3_000);
      await broker.publish(makeUpdate('new', 'urn:a'));
      assert.deepEqual(await allIds(broker), ['old', 'mid', 'new']);
      clock.advance(4_000); // old is 11 s old, mid 7 s, new 4 s
      assert.deepEqual(await allIds(broker), ['mid', 'new']);
      assert.equal(await found(broker, 'old'), false);
      assert.equal(await found(broker, 'mid'), true);
      clock.advance(5_000); // mid 12 s, new 9 s
      assert.deepEqual(await allIds(broker), ['new']);
      assert.equal(await broker.lastEventId(), 'new');
      clock.advance(2_000);
      assert.deepEqual(await allIds(broker), []);
      await broker.publish(makeUpdate('fresh', 'urn:a'));
      assert.deepEqual(await allIds(broker), ['fresh']);
    });
  });

  const exactCaps = factory.shardedCaps === true ? 'caps hold per shard (shardedCaps)' : false;

  test('retention: at most maxTotal updates in the whole log, the oldest dropped first', { skip: exactCaps }, async () => {
    const retention = { maxPerTopic: 0, maxAgeSeconds: 0, maxTotal: 4 };
    await withBroker(factory, { retention }, async ({ broker }) => {
      for (const [i, id] of idRange('t', 1, 6).entries()) {
        await broker.publish(makeUpdate(id, `urn:topic${i % 3}`));
      }
      assert.deepEqual(await allIds(broker), ['t3', 't4', 't5', 't6']);
      assert.equal(await found(broker, 't2'), false);
      const after = await broker.history({ afterId: 't3', filter: () => true, limit: 10 });
      assert.deepEqual(
        after.updates.map((u) => u.id),
        ['t4', 't5', 't6'],
      );
      await Promise.all(idRange('burst', 1, 50).map((id) => broker.publish(makeUpdate(id, 'urn:burst'))));
      assert.deepEqual(await allIds(broker), idRange('burst', 47, 50));
    });
  });

  test('retention: with caps per shard, the whole log stays within maxTotal (rounded up per shard), newest kept per shard', { skip: factory.shardedCaps === true ? false : 'caps are exact' }, async () => {
    const retention = { maxPerTopic: 0, maxAgeSeconds: 0, maxTotal: 8 };
    await withBroker(factory, { retention }, async ({ broker }) => {
      const published = idRange('s', 1, 200);
      for (const [i, id] of published.entries()) await broker.publish(makeUpdate(id, `urn:spread${i % 16}`));
      const kept = await allIds(broker);
      assert.ok(kept.length > 0 && kept.length <= 16, `kept ${kept.length}`);
      // What is kept is a suffix of each topic's updates, in publish order.
      assert.deepEqual(kept, published.filter((id) => kept.includes(id)));
      assert.ok(kept.includes('s200'));
    });
  });

  test('retention: a trimmed id can be published again', async () => {
    const retention = { maxPerTopic: 1, maxAgeSeconds: 0, maxTotal: 1000 };
    await withBroker(factory, { retention }, async ({ broker }) => {
      await broker.publish(makeUpdate('again', 'urn:a', { data: 'first' }));
      await broker.publish(makeUpdate('other', 'urn:a'));
      await broker.publish(makeUpdate('again', 'urn:a', { data: 'second' }));
      const history = await broker.history({ filter: () => true, limit: 10 });
      assert.deepEqual(
        history.updates.map((u) => [u.id, u.data]),
        [['again', 'second']],
      );
    });
  });
}
