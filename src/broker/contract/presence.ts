// Contract cases for presence bookkeeping and the broker's life cycle (readiness,
// closing twice, publishing after close).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeraldError } from '../../errors.js';
import type { BrokerFactory } from './kit.js';
import { makeUpdate, Recorder, withBroker } from './kit.js';
import type { Broker, SubscriptionRecord } from '../types.js';

export function subscription(topic: string, subscriber: string, payload?: unknown): SubscriptionRecord {
  const record = {
    id: `/.well-known/mercure/subscriptions/${encodeURIComponent(topic)}/${encodeURIComponent(subscriber)}`,
    topic,
    subscriber,
  };
  return payload === undefined ? record : { ...record, payload };
}

export async function listedIds(broker: Broker): Promise<string[]> {
  return (await broker.listSubscriptions()).map((r) => r.id).sort();
}

export function presenceCases(factory: BrokerFactory): void {
  test('presence: added records are listed as given, removed ones are not', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      assert.deepEqual(await broker.listSubscriptions(), []);
      const alice = subscription('https://example.com/rooms/1', 'urn:uuid:alice', { name: 'Alice', tags: ['a', 'é'] });
      const bob = subscription('https://example.com/rooms/{id}', 'urn:uuid:bob');
      const carol = subscription('https://example.com/rooms/1', 'urn:uuid:carol', 'just a string');
      await broker.addSubscriptions([alice, bob]);
      await broker.addSubscriptions([carol]);
      const byId = new Map((await broker.listSubscriptions()).map((r) => [r.id, r]));
      assert.deepEqual([...byId.keys()].sort(), [alice.id, bob.id, carol.id].sort());
      assert.deepEqual(byId.get(alice.id), alice);
      assert.deepEqual(byId.get(carol.id), carol);
      assert.deepEqual(byId.get(bob.id), bob);
      assert.equal('payload' in byId.get(bob.id)!, false, 'an absent payload stays absent');
      assert.deepEqual(await broker.removeSubscriptions([alice.id, 'not-there']), [alice.id], 'only what it removed');
      assert.deepEqual(await listedIds(broker), [bob.id, carol.id].sort());
      assert.deepEqual(await broker.removeSubscriptions([]), []);
      await broker.addSubscriptions([]);
      assert.deepEqual((await broker.removeSubscriptions([bob.id, carol.id, alice.id])).sort(), [bob.id, carol.id].sort());
      assert.deepEqual(await broker.listSubscriptions(), []);
    });
  });

  test('presence: getSubscription looks one record up by id; scanSubscriptions keeps what its filter wants and stops after maxScan', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      const records = Array.from({ length: 1200 }, (_, i) => subscription(`urn:scan:${i % 3}`, `urn:uuid:s${i}`, { n: i }));
      await broker.addSubscriptions(records);
      await broker.removeSubscriptions([records[7]!.id]);
      assert.deepEqual(await broker.getSubscription(records[500]!.id), records[500]);
      assert.equal(await broker.getSubscription(records[7]!.id), undefined, 'removed');
      assert.equal(await broker.getSubscription('nope'), undefined);
      const all = await broker.scanSubscriptions({ filter: () => true, maxScan: 100_000 });
      assert.equal(all.complete, true);
      assert.deepEqual(all.records.map((r) => r.id).sort(), records.filter((_, i) => i !== 7).map((r) => r.id).sort(), 'each once');
      const one = await broker.scanSubscriptions({ filter: (r) => r.topic === 'urn:scan:1', maxScan: 100_000 });
      assert.deepEqual(one.records.map((r) => r.subscriber).sort(), records.filter((r) => r.topic === 'urn:scan:1' && r !== records[7]).map((r) => r.subscriber).sort());
      let examined = 0;
      const cut = await broker.scanSubscriptions({ filter: () => ++examined > 0, maxScan: 300 });
      assert.equal(cut.complete, false, '1199 records, 300 examined');
      // A store reads in batches (Redis HSCAN's COUNT is a hint): bounded, not exact.
      assert.ok(examined >= 1 && examined <= 600, `examined ${examined} for maxScan 300`);
      assert.equal(cut.records.length, examined);
    });
  });

  test('presence: adding a record with a known id replaces it', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      await broker.addSubscriptions([subscription('urn:t', 'urn:uuid:s', { v: 1 })]);
      await broker.addSubscriptions([subscription('urn:t', 'urn:uuid:s', { v: 2 })]);
      const list = await broker.listSubscriptions();
      assert.deepEqual(list, [subscription('urn:t', 'urn:uuid:s', { v: 2 })]);
    });
  });

  test('life cycle: ready while open; close() is idempotent; publish after close fails with store_unavailable', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      assert.equal(await broker.isReady(), true);
      assert.equal(typeof broker.description, 'string');
      assert.ok(broker.description.length > 0);
      const recorder = new Recorder(broker);
      await broker.publish(makeUpdate('before', 'urn:t'));
      await recorder.waitForId('before');
      await Promise.all([broker.close(), broker.close()]);
      await broker.close();
      assert.equal(await broker.isReady(), false);
      await assert.rejects(
        broker.publish(makeUpdate('after', 'urn:t')),
        (e: unknown) => isHeraldError(e) && e.code === 'store_unavailable',
      );
      assert.deepEqual(recorder.ids, ['before']);
    });
  });
}
