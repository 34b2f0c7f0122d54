// createBroker: which --store values give which broker, and the refusals.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { isHeraldError } from '../errors.js';
import { createBroker, STORES, storeKind } from './create.js';
import { MemoryBroker } from './local/memory.js';
import { SqliteBroker } from './local/sqlite.js';
import type { RetentionOptions } from './types.js';

const retention: RetentionOptions = { maxPerTopic: 0, maxAgeSeconds: 0, maxTotal: 1000 };

function isInvalidConfig(pattern: RegExp): (e: unknown) => boolean {
  return (e) => isHeraldError(e) && e.code === 'invalid_config' && pattern.test(e.message);
}

test('createBroker: "memory" gives the memory broker', async () => {
  const broker = await createBroker('memory', { retention });
  assert.ok(broker instanceof MemoryBroker);
  assert.equal(broker.description, 'memory');
  await broker.close();
});

test('createBroker: "sqlite:<path>" opens that file, relative paths from the working directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-create-'));
  const path = relative(process.cwd(), join(dir, 'sub', 'h.db'));
  try {
    const broker = await createBroker(`sqlite:${path}`, { retention });
    assert.ok(broker instanceof SqliteBroker);
    assert.equal(broker.description, `sqlite:${path}`);
    await broker.publish({ id: 'one', topics: ['urn:t'], data: 'x', private: false });
    await broker.close();
    const again = await createBroker(`sqlite:${join(dir, 'sub', 'h.db')}`, { retention });
    assert.equal(await again.lastEventId(), 'one');
    await again.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('createBroker: a Redis URL goes to the Redis broker (unreachable here: store_unavailable, no credentials shown)', async () => {
  // Port 1 on loopback refuses at once; the Redis broker's own tests use a live server.
  await assert.rejects(
    createBroker('redis://user:s3cret@127.0.0.1:1/0', { retention }),
    (e: unknown) => isHeraldError(e) && e.code === 'store_unavailable' && e.message.includes('redis://127.0.0.1:1/0') && !e.message.includes('s3cret'),
  );
});

test('createBroker: anything else is refused with a message naming the accepted forms', async () => {
  for (const store of ['', 'sqlite:', 'Memory', 'postgres://x', 'sqlite']) {
    await assert.rejects(createBroker(store, { retention }), isInvalidConfig(/one of memory, sqlite:<path>, redis:\/\/host:port\/db, redis-sentinel:\/\/host:port,host:port\/mastername or redis-cluster:\/\/host:port,host:port, got/));
  }
});

test('STORES: each row is found by its own syntax, and only Redis is shared across processes', () => {
  assert.equal(storeKind('memory')?.shared, false);
  assert.equal(storeKind('sqlite:./x.db')?.shared, false);
  assert.equal(storeKind('rediss://h:6380/2')?.shared, true);
  assert.equal(storeKind('redis-sentinel://h:26379,g:26379/main')?.syntax, 'redis-sentinel://host:port,host:port/mastername');
  assert.equal(storeKind('redis-cluster://h:7000,g:7001')?.syntax, 'redis-cluster://host:port,host:port');
  assert.equal(storeKind('sqlite:'), undefined);
  assert.deepEqual(STORES.filter((kind) => kind.shared).map((kind) => kind.syntax), [
    'redis://host:port/db',
    'redis-sentinel://host:port,host:port/mastername',
    'redis-cluster://host:port,host:port',
  ]);
});

test('createBroker: Sentinel and Cluster URLs reach the Redis broker (unreachable here: store_unavailable, no credentials shown)', async () => {
  for (const [store, shown] of [
    ['redis-sentinel://:s3cret@127.0.0.1:1,127.0.0.1:2/main', 'redis-sentinel://127.0.0.1:1,127.0.0.1:2/main'],
    ['redis-cluster://u:s3cret@127.0.0.1:1', 'redis-cluster://127.0.0.1:1'],
  ] as const) {
    await assert.rejects(
      createBroker(store, { retention }),
      (e: unknown) => isHeraldError(e) && e.code === 'store_unavailable' && e.message.includes(shown) && !e.message.includes('s3cret'),
    );
  }
});
