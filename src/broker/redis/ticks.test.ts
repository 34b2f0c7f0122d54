// The merged reader's batched ticks against a real redis-server of their own (its script
// cache is flushed, which a shared server's other users would feel): a tick raises a
// bucket's clock and never lowers it, reads exactly what follows `from`, answers per
// bucket in request order, and survives a lost script cache.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import { redisKeys } from './keys.js';
import { tickAndRead } from './ticks.js';
import { skipWithoutRedisServer, startStandaloneRedis, type StandaloneRedis } from './topology-kit.js';

let redis: StandaloneRedis | undefined;
let client: Redis;

before(async () => {
  if (skipWithoutRedisServer) return;
  redis = await startStandaloneRedis();
  client = redis.server.client();
});
after(() => redis?.stop());

test('batched ticks: every bucket in one call, each raised (never lowered) and read after its position', { skip: skipWithoutRedisServer }, async () => {
  const buckets = ['a', 'b', 'c'].map((tag) => redisKeys('ticks:', tag));
  const [a, b, c] = buckets as [typeof buckets[0], typeof buckets[0], typeof buckets[0]];
  const first = await client.xadd(a.stream, '1000-1', 'id', 'x');
  await client.xadd(a.stream, '1500-1', 'id', 'y');
  await client.hset(b.meta, 'clock', '9000');
  await client.xadd(c.stream, '800-1', 'id', 'z');
  const results = await tickAndRead(client, [
    { keys: a, at: 2000, from: first! },
    { keys: b, at: 2000, from: '0-0' },
    { keys: c, at: 2000, from: '800-1' },
  ], 500);
  assert.deepEqual(results, [
    { clock: 2000, entries: [['1500-1', ['id', 'y']]] },
    { clock: 9000, entries: [] },
    { clock: 2000, entries: [] },
  ]);
  assert.equal(await client.hget(b.meta, 'clock'), '9000', 'a higher clock stays');
  assert.equal(await client.hget(c.meta, 'clock'), '2000');
  // A lower `at` leaves the clock alone; the read still returns all that follows the position.
  await client.xadd(a.stream, '2000-1', 'id', 'late');
  assert.deepEqual(await tickAndRead(client, [{ keys: a, at: 1, from: '1500-1' }], 500), [{ clock: 2000, entries: [['2000-1', ['id', 'late']]] }]);
  // A full batch comes back whole: the caller then knows the read did not reach the clock.
  assert.deepEqual(((await tickAndRead(client, [{ keys: a, at: 1, from: '0-0' }], 2))[0] as { entries: unknown[] }).entries.length, 2);
});

test('batched ticks: meta.last (the newest entry the publish script wrote) spares the read only when nothing follows the position', { skip: skipWithoutRedisServer }, async () => {
  const keys = redisKeys('ticks-last:', 'a');
  await client.xadd(keys.stream, '10-1', 'id', 'x');
  await client.xadd(keys.stream, '10-2', 'id', 'y');
  await client.hset(keys.meta, 'clock', '10', 'last', '10-2');
  assert.deepEqual(await tickAndRead(client, [{ keys, at: 20, from: '10-2' }], 500), [{ clock: 20, entries: [] }]);
  assert.deepEqual(await tickAndRead(client, [{ keys, at: 20, from: '10-1' }], 500), [{ clock: 20, entries: [['10-2', ['id', 'y']]] }]);
  assert.deepEqual(await tickAndRead(client, [{ keys, at: 20, from: '9-7' }], 500), [{ clock: 20, entries: [['10-1', ['id', 'x']], ['10-2', ['id', 'y']]] }]);
});

test('batched ticks: after a lost script cache (Redis restarted) the tick falls back to EVAL', { skip: skipWithoutRedisServer }, async () => {
  const keys = redisKeys('ticks-flush:', 'a');
  await client.script('FLUSH');
  const [result] = await tickAndRead(client, [{ keys, at: 1234, from: '0-0' }], 500);
  assert.deepEqual(result, { clock: 1234, entries: [] });
  assert.equal(await client.hget(keys.meta, 'clock'), '1234');
});
