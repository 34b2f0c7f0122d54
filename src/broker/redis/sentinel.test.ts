// The Redis broker behind Sentinel (one primary, one replica, three sentinels, all
// started here): the shared Broker contract, then failovers while publishing.
import { after } from 'node:test';
import { runBrokerContract } from '../contract/contract.js';
import { skipWithoutRedisServer, startSentinelTopology, topologyFactory } from './topology-kit.js';
import { test } from 'node:test';

if (skipWithoutRedisServer) {
  test('redis sentinel', { skip: skipWithoutRedisServer }, () => {});
} else {
  const topology = await startSentinelTopology();
  after(() => topology.stop());
  runBrokerContract('redis sentinel', topologyFactory(topology.url));
}
