// Contract cases for stores that outlive a broker (durable) and stores that several
// hub processes use at once (shared). A second broker opened on the same store
// (BrokerHandle.reopen) plays the restarted or the other process.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrokerFactory } from './kit.js';
import { allIds, ids, idRange, makeUpdate, Recorder, settle, withBroker } from './kit.js';
import { assertSameUpdates, trickyUpdates } from './publish.js';
import { listedIds, subscription } from './presence.js';

export function durableCases(factory: BrokerFactory): void {
  const skip = factory.durable ? false : 'the store is not durable';

  test('durable: every update whose publish resolved is in the history of a broker reopened on the store', { skip }, async () => {
    await withBroker(factory, {}, async (handle) => {
      const tricky = trickyUpdates();
      for (const update of tricky) await handle.broker.publish(update);
      const burst = idRange('d', 1, 100).map((id) => makeUpdate(id, 'urn:d'));
      await Promise.all(burst.map((u) => handle.broker.publish(u)));
      // The first broker stays open: nothing may depend on it closing cleanly.
      const reopened = await handle.reopen();
      const history = await reopened.history({ filter: () => true, limit: 1000 });
      assertSameUpdates(history.updates, [...tricky, ...burst]);
      assert.equal(await reopened.lastEventId(), 'd100');
    });
  });

  test('durable: close() first stores the publishes still pending', { skip }, async () => {
    await withBroker(factory, {}, async (handle) => {
      const expected = idRange('c', 1, 100);
      const pending = expected.map((id) => handle.broker.publish(makeUpdate(id, 'urn:c')));
      await handle.broker.close();
      const outcomes = await Promise.allSettled(pending);
      assert.deepEqual(
        outcomes.map((o) => o.status),
        expected.map(() => 'fulfilled'),
      );
      const reopened = await handle.reopen();
      assert.deepEqual(await allIds(reopened), expected);
    });
  });

  test('durable: a reopened store continues the log after the old updates', { skip }, async () => {
    await withBroker(factory, {}, async (handle) => {
      await handle.broker.publish(makeUpdate('a', 'urn:t'));
      await handle.broker.publish(makeUpdate('b', 'urn:t'));
      await handle.broker.close();
      const reopened = await handle.reopen();
      await reopened.publish(makeUpdate('c', 'urn:t'));
      assert.deepEqual(await allIds(reopened), ['a', 'b', 'c']);
      const after = await reopened.history({ afterId: 'a', filter: () => true, limit: 10 });
      assert.deepEqual(ids(after.updates), ['b', 'c']);
      assert.equal(await reopened.lastEventId(), 'c');
    });
  });
}

export function sharedCases(factory: BrokerFactory): void {
  const skip = factory.shared ? false : 'the store is not shared';

  test('shared: updates published on either broker reach both exactly once, in one log order', { skip }, async () => {
    await withBroker(factory, {}, async (handle) => {
      const one = handle.broker;
      const two = await handle.reopen();
      const onOne = new Recorder(one);
      const onTwo = new Recorder(two);
      const fromOne = idRange('one-', 1, 30);
      const fromTwo = idRange('two-', 1, 30);
      await Promise.all([
        ...fromOne.map((id) => one.publish(makeUpdate(id, 'urn:s'))),
        ...fromTwo.map((id) => two.publish(makeUpdate(id, 'urn:s'))),
      ]);
      await settle(one, [onOne, onTwo], 'marker');
      assert.equal(onOne.updates.length, 61, `exactly once on the first broker: ${onOne.ids.join(',')}`);
      assert.deepEqual(onTwo.ids, onOne.ids, 'both brokers see one log order');
      assert.deepEqual([...onOne.ids].sort(), [...fromOne, ...fromTwo, 'marker'].sort());
      // Each publisher's own calls keep their order in the log.
      assert.deepEqual(onOne.ids.filter((id) => id.startsWith('one-')), fromOne);
      assert.deepEqual(onOne.ids.filter((id) => id.startsWith('two-')), fromTwo);
      assert.deepEqual(await allIds(one), onOne.ids);
      assert.deepEqual(await allIds(two), onOne.ids);
      assert.equal(await two.lastEventId(), 'marker');
    });
  });

  test('shared: presence added on one broker is listed by the other', { skip }, async () => {
    await withBroker(factory, {}, async (handle) => {
      const one = handle.broker;
      const two = await handle.reopen();
      const alice = subscription('urn:room', 'urn:uuid:alice', { name: 'Alice' });
      const bob = subscription('urn:room', 'urn:uuid:bob');
      await one.addSubscriptions([alice]);
      await two.addSubscriptions([bob]);
      assert.deepEqual(await listedIds(one), [alice.id, bob.id].sort());
      assert.deepEqual(await listedIds(two), [alice.id, bob.id].sort());
      const seenByTwo = (await two.listSubscriptions()).find((r) => r.id === alice.id);
      assert.deepEqual(seenByTwo, alice);
      await one.removeSubscriptions([alice.id]);
      assert.deepEqual(await listedIds(two), [bob.id]);
    });
  });
}
