// The Redis broker on a three-master Redis Cluster (started here): the shared Broker
// contract, then a live reshard while publishing.
import { after, test } from 'node:test';
import { runBrokerContract } from '../contract/contract.js';
import { skipWithoutRedisServer, startClusterTopology, topologyFactory } from './topology-kit.js';

if (skipWithoutRedisServer) {
  test('redis cluster', { skip: skipWithoutRedisServer }, () => {});
} else {
  const topology = await startClusterTopology();
  after(() => topology.stop());
  runBrokerContract('redis cluster', topologyFactory(topology.url));
}
