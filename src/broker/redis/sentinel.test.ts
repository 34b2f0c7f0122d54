// The Redis broker behind Sentinel (one primary, one replica, three sentinels, all
// started here): the shared Broker contract, then failovers while publishing, with and
// without --redis-replicas-ack, counting the acknowledged updates the failover lost.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KEEP_ALL, runBrokerContract } from '../contract/contract.js';
import { openRedisConnections } from './connection.js';
import { createRedisBroker } from './redis-broker.js';
import { keepPublishing, skipWithoutRedisServer, startSentinelTopology, topologyFactory, waitFor } from './topology-kit.js';

// How long the replica is frozen before the primary dies: the updates written meanwhile
// never reach it, which is what asynchronous replication loses in a failover.
const STALL_MS = 1000;
// Big enough that a second of them overflows the socket buffers between primary and
// frozen replica: what stays in the primary's memory is what its death loses.
const DATA_BYTES = 8192;

if (skipWithoutRedisServer) {
  test('redis sentinel', { skip: skipWithoutRedisServer }, () => {});
} else {
  const topology = await startSentinelTopology();
  after(() => topology.stop());
  runBrokerContract('redis sentinel', topologyFactory(topology.url));

  test('redis sentinel: a client whose reconnect ioredis aborted (it then ends for good) connects again; one its owner closed does not', { timeout: 30_000 }, async () => {
    const connections = await openRedisConnections(topology.url, 'the test sentinels');
    try {
      const { commands } = connections;
      // What a stale failover detector does when +switch-master arrives mid-reconnect:
      // it disconnects the connector under the attempt, which then rejects.
      const connector = (commands as unknown as { connector: { disconnect(): void } }).connector;
      commands.once('connecting', () => connector.disconnect());
      commands.disconnect(true);
      await waitFor('ioredis to end the client', 5_000, () => commands.status === 'end');
      await waitFor('the client to connect again', 10_000, () => commands.status === 'ready');
      assert.equal(await commands.ping(), 'PONG');
      commands.disconnect();
      await waitFor('the closed client to end', 5_000, () => commands.status === 'end');
      await sleep(500);
      assert.equal(commands.status, 'end', 'a client closed by its owner stays closed');
    } finally {
      connections.commands.disconnect();
      connections.reader.disconnect();
    }
  });

  /** Publishes through a failover (the primary SIGKILLed, optionally with its replica frozen first); returns the acknowledged updates lost. */
  async function failover(replicasAck: number, stallReplica: boolean): Promise<{ acked: number; lost: string[]; failed: number; messages: string[] }> {
    const setup = await startSentinelTopology();
    const broker = await createRedisBroker({ url: setup.url, prefix: 'failover:', retention: KEEP_ALL, replicasAck });
    const publishing = keepPublishing(broker, 'f', 4, stallReplica ? DATA_BYTES : 0);
    try {
      await publishing.waitForMore(200, 20_000);
      if (stallReplica) {
        setup.replica.child.kill('SIGSTOP');
        // A fault lasting this long, not a wait for an event: publishes carry on meanwhile.
        await sleep(STALL_MS);
      }
      await setup.primary.kill();
      if (stallReplica) setup.replica.child.kill('SIGCONT');
      await waitFor('Sentinel to promote the replica', 30_000, async () => (await setup.primaryPort()) === setup.replica.port);
      // The old primary comes back empty and follows the new one, so WAIT has a replica again.
      await setup.restartAsReplica(setup.primary);
      await publishing.waitForMore(200, 30_000);
      await publishing.stop();
      const stored = new Set((await broker.history({ filter: () => true, limit: 1_000_000 })).updates.map((u) => u.id));
      return {
        acked: publishing.acked.length,
        lost: publishing.acked.filter((id) => !stored.has(id)),
        failed: publishing.failures.length,
        messages: [...new Set(publishing.failures.map((f) => f.message.replace(/\d+ ms/, 'N ms')))],
      };
    } finally {
      await publishing.stop();
      await broker.close();
      await setup.stop();
    }
  }

  test('redis sentinel: with --redis-replicas-ack 1, a failover with a lagging replica loses no acknowledged update', { timeout: 90_000 }, async () => {
    const result = await failover(1, true);
    console.log(`failover, replicas-ack 1, replica frozen ${STALL_MS} ms, ${DATA_BYTES} B updates: ${result.acked} acknowledged, ${result.lost.length} lost, ${result.failed} failed (${result.messages.join(' | ')})`);
    assert.deepEqual(result.lost, []);
    assert.ok(result.messages.some((m) => m.includes('--redis-replicas-ack')), 'the publishes the frozen replica could not confirm were answered 503');
  });

  test('redis sentinel: without it, the same failover loses what the replica had not received (measured)', { timeout: 90_000 }, async () => {
    const result = await failover(0, true);
    console.log(`failover, replicas-ack 0, replica frozen ${STALL_MS} ms, ${DATA_BYTES} B updates: ${result.acked} acknowledged, ${result.lost.length} lost, ${result.failed} failed (${result.messages.join(' | ')})`);
    // The loss is the point: this is what the option prevents (and proves the count can fail).
    assert.ok(result.lost.length > 0, 'updates acknowledged while the replica was frozen are gone');
  });

  test('redis sentinel: without it, a plain kill -9 of the primary under load (measured)', { timeout: 90_000 }, async () => {
    const result = await failover(0, false);
    console.log(`failover, replicas-ack 0, primary killed under load: ${result.acked} acknowledged, ${result.lost.length} lost, ${result.failed} failed (${result.messages.join(' | ')})`);
    // How many get through before the kill depends on the box's load; the figure is what matters.
    assert.ok(result.acked > 50, `only ${result.acked} acknowledged: the publishers never got going`);
  });
}
