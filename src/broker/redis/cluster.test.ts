// The Redis broker on a three-master Redis Cluster (started here): the shared Broker
// contract, then a live reshard while publishing, and readiness when a slot's owner dies.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { KEEP_ALL, Recorder, runBrokerContract } from '../contract/contract.js';
import { bucketTags, keySlot } from './buckets.js';
import { createRedisBroker } from './redis-broker.js';
import { keepPublishing, skipWithoutRedisServer, startClusterTopology, topologyFactory, waitFor } from './topology-kit.js';

if (skipWithoutRedisServer) {
  test('redis cluster', { skip: skipWithoutRedisServer }, () => {});
} else {
  const topology = await startClusterTopology();
  after(() => topology.stop());
  runBrokerContract('redis cluster', topologyFactory(topology.url));
  runBrokerContract('redis cluster, 4 log buckets', topologyFactory(topology.url, { logBuckets: 4 }));

  test('redis cluster: a live reshard of the log and presence slots while publishing: no "unreachable", nothing lost or doubled, /readyz stays true', { timeout: 90_000 }, async () => {
    const prefix = 'reshard:';
    const options = { url: topology.url, prefix, retention: KEEP_ALL, presenceTtlMs: 3000 };
    const publisher = await createRedisBroker(options);
    const follower = await createRedisBroker(options);
    const recorder = new Recorder(follower);
    await follower.addSubscriptions([{ id: '/s/urn%3Areshard/urn%3Auuid%3Ar', topic: 'urn:reshard', subscriber: 'urn:uuid:r' }]);
    const admin = topology.masters[0]!.client();
    const slots = await Promise.all([`${prefix}{log}:stream`, `${prefix}{presence}:nodes`].map((key) => admin.cluster('KEYSLOT', key)));
    const publishing = keepPublishing(publisher, 'r');
    const readiness: boolean[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) readiness.push(await publisher.isReady());
    })();
    try {
      await publishing.waitForMore(300, 30_000);
      const started = Date.now();
      const moves: string[] = [];
      for (const slot of slots) {
        const from = await topology.ownerOf(slot);
        const to = topology.masters.find((m) => m !== from)!;
        const keys = await topology.migrateSlot(slot, to, 10);
        assert.equal(await topology.ownerOf(slot), to);
        moves.push(`slot ${slot}: ${keys} keys ${from.port} -> ${to.port}`);
      }
      const reshardMs = Date.now() - started;
      const ackedDuring = publishing.acked.length;
      await publishing.waitForMore(300, 30_000);
      await publishing.stop();
      probing = false;
      await prober;

      const unreachable = publishing.failures.filter((f) => /unreachable/i.test(f.message));
      console.log(`reshard: ${moves.join('; ')} in ${reshardMs} ms; ${publishing.acked.length} publishes acknowledged, ${publishing.failures.length} failed (${[...new Set(publishing.failures.map((f) => f.message))].join(' | ') || 'none'}); readiness probes: ${readiness.filter((r) => !r).length} false of ${readiness.length}; ${ackedDuring} acked when the moves ended`);
      assert.deepEqual(unreachable, [], 'a reshard is not an outage');
      for (const failure of publishing.failures) assert.equal(failure.code, 'store_unavailable');
      assert.ok(publishing.failures.length < publishing.acked.length / 10, 'the retries absorb most of the reshard');

      const history = (await follower.history({ filter: () => true, limit: 100_000 })).updates.map((u) => u.id);
      assert.deepEqual([...history].sort(), [...publishing.acked].sort(), 'exactly the acknowledged updates are stored');
      await recorder.waitForId(history.at(-1)!, 20_000);
      assert.deepEqual(recorder.ids.filter((id) => history.includes(id)), history.filter((id) => recorder.ids.includes(id)), 'live order is log order');
      assert.equal(new Set(recorder.ids).size, recorder.ids.length, 'no duplicate delivery');
      assert.deepEqual(history.filter((id) => !recorder.ids.includes(id)), [], 'every update after the follower started reached it');
      assert.equal(await publisher.isReady(), true);
      assert.deepEqual((await publisher.listSubscriptions()).map((r) => r.subscriber), ['urn:uuid:r']);
    } finally {
      probing = false;
      await publishing.stop();
      await prober;
      await publisher.close();
      await follower.close();
    }
  });

  test('redis cluster, 4 log buckets: a live reshard of every bucket slot while publishing: exactly the acknowledged updates, one order on both processes', { timeout: 120_000 }, async () => {
    const prefix = 'reshard-buckets:';
    const options = { url: topology.url, prefix, retention: KEEP_ALL, logBuckets: 4 };
    const publisher = await createRedisBroker(options);
    const followers = [await createRedisBroker(options), await createRedisBroker(options)];
    const recorders = followers.map((f) => new Recorder(f));
    const publishing = keepPublishing(publisher, 'rb');
    try {
      await publishing.waitForMore(200, 30_000);
      const moves: string[] = [];
      for (const tag of bucketTags(4)) {
        const slot = keySlot(`{${tag}}`);
        const from = await topology.ownerOf(slot);
        const to = topology.masters.find((m) => m !== from)!;
        const keys = await topology.migrateSlot(slot, to, 10);
        moves.push(`${tag} (slot ${slot}): ${keys} keys`);
      }
      await publishing.waitForMore(200, 30_000);
      await publishing.stop();
      console.log(`reshard of 4 buckets: ${moves.join('; ')}; ${publishing.acked.length} acknowledged, ${publishing.failures.length} failed (${[...new Set(publishing.failures.map((f) => f.message))].join(' | ') || 'none'})`);
      assert.deepEqual(publishing.failures.filter((f) => /unreachable/i.test(f.message)), [], 'a reshard is not an outage');
      const history = (await followers[0]!.history({ filter: () => true, limit: 100_000 })).updates.map((u) => u.id);
      assert.deepEqual([...history].sort(), [...publishing.acked].sort(), 'exactly the acknowledged updates are stored');
      for (const recorder of recorders) await recorder.waitForId(history.at(-1)!, 20_000);
      assert.deepEqual(recorders[0]!.ids, recorders[1]!.ids, 'both processes emit one order');
      assert.equal(new Set(recorders[0]!.ids).size, recorders[0]!.ids.length, 'no duplicate delivery');
      assert.deepEqual(recorders[0]!.ids.filter((id) => history.includes(id)), history.filter((id) => recorders[0]!.ids.includes(id)), 'live order is history order');
      assert.deepEqual(history.filter((id) => !recorders[0]!.ids.includes(id)), [], 'every update reached the followers');
    } finally {
      await publishing.stop();
      await publisher.close();
      for (const f of followers) await f.close();
    }
  });

  test('redis cluster: /readyz turns false when the log slot has no live owner, and publish answers 503', { timeout: 60_000 }, async () => {
    const broker = await createRedisBroker({ url: topology.url, prefix: 'owner:', retention: KEEP_ALL });
    try {
      assert.equal(await broker.isReady(), true);
      const admin = topology.masters[0]!.client();
      const owner = await topology.ownerOf(await admin.cluster('KEYSLOT', 'owner:{log}:meta'));
      await owner.kill();
      await waitFor('readiness to turn false', 20_000, async () => !(await broker.isReady()));
      await assert.rejects(broker.publish({ id: 'x', topics: ['urn:t'], data: '', private: false }), (e: unknown) => e instanceof Error && 'code' in e && e.code === 'store_unavailable');
    } finally {
      await broker.close();
    }
  });
}
