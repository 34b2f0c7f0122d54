// A tick in the middle of a live reshard, when the bucket's meta hash has already moved
// to the importing master and its stream has not. A tick that raised the clock on one
// node and read the stream on another (a pipeline that ioredis re-sends with ASKING to
// the importing node, where the stream is still missing and reads as empty) would say
// "nothing below this clock is unread" while entries below it wait on the old master: the
// merge would then emit later entries of other buckets first. The tick and its read are
// one script over both keys, so Redis refuses it (TRYAGAIN) until both sit on one node.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Cluster } from 'ioredis';
import { keySlot } from './buckets.js';
import { CLUSTER_RETRIES } from './connection.js';
import { redisKeys } from './keys.js';
import { tickAndRead } from './ticks.js';
import { skipWithoutRedisServer, startClusterTopology, type ClusterTopology } from './topology-kit.js';

let topology: ClusterTopology | undefined;
after(() => topology?.stop());

test('a tick while a reshard has moved the bucket\'s meta but not its stream is refused, never answered with a clock its read did not cover', { skip: skipWithoutRedisServer, timeout: 60_000 }, async () => {
  topology = await startClusterTopology();
  const keys = redisKeys('tick-reshard:', 'log-3-0');
  const slot = keySlot(keys.meta);
  assert.equal(keySlot(keys.stream), slot);
  const cluster = new Cluster(topology.masters.map((m) => ({ host: '127.0.0.1', port: m.port })), { ...CLUSTER_RETRIES, retryDelayOnTryAgain: 20, maxRedirections: 4 });
  cluster.on('error', () => {});
  try {
    const first = await cluster.xadd(keys.stream, '1000-1', 'id', 'a');
    await cluster.xadd(keys.stream, '2000-1', 'id', 'b');
    await cluster.xadd(keys.stream, '3000-1', 'id', 'c');
    await cluster.hset(keys.meta, 'clock', '3000');

    // By hand, what a reshard does between two MIGRATE batches: only the meta hash moved.
    const from = await topology.ownerOf(slot);
    const to = topology.masters.find((m) => m !== from)!;
    const [source, target] = [from.client(), to.client()];
    const [fromId, toId] = await Promise.all([source.cluster('MYID'), target.cluster('MYID')]);
    await target.cluster('SETSLOT', slot, 'IMPORTING', fromId);
    await source.cluster('SETSLOT', slot, 'MIGRATING', toId);
    await source.call('MIGRATE', '127.0.0.1', String(to.port), '', '0', '10000', 'KEYS', keys.meta);
    assert.equal(await target.call('ASKING').then(() => target.exists(keys.meta)), 1, 'the meta hash is on the importing master');

    const [split] = await tickAndRead(cluster, [{ keys, at: 9000, from: first! }], 500);
    assert.ok(split instanceof Error, `a split bucket must not be ticked; got ${JSON.stringify(split)}`);
    assert.match(split.message, /TRYAGAIN/);

    // The reshard finishes: the same tick now covers the whole stream on its new owner.
    await source.call('MIGRATE', '127.0.0.1', String(to.port), '', '0', '10000', 'KEYS', keys.stream);
    for (const node of topology.masters) await node.client().cluster('SETSLOT', slot, 'NODE', toId);
    const [done] = await tickAndRead(cluster, [{ keys, at: 9000, from: first! }], 500);
    assert.ok(done !== undefined && !(done instanceof Error), String(done));
    assert.equal(done.clock, 9000);
    assert.deepEqual(done.entries.map(([id]) => id), ['2000-1', '3000-1']);
  } finally {
    cluster.disconnect();
  }
});
