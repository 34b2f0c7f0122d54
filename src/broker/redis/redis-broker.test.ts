// The Redis broker through the shared contract (reopen() is a second hub process on the
// same Redis and prefix), plus what only this log does: the reader's start position,
// live delivery of bursts beyond retention, and no key outliving its update.
// Needs Redis at HERALD_TEST_REDIS_URL (default 127.0.0.1:6379); fails under CI without it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeraldError } from '../../errors.js';
import { runBrokerContract, makeUpdate, ManualClock, Recorder } from '../contract/contract.js';
import type { BrokerHandle } from '../contract/contract.js';
import { describeRedisUrl } from './connection.js';
import { admin, connectTestRedis, keysOf, newStore, unreachableReason } from './test-kit.js';

const reachable = await connectTestRedis();

if (!reachable) {
  test('redis broker', { skip: unreachableReason }, () => {});
} else {
  runBrokerContract('redis', {
    durable: true,
    shared: true,
    async create(opts): Promise<BrokerHandle> {
      const store = newStore();
      const options = { retention: opts.retention, ...(opts.now ? { now: opts.now } : {}) };
      return { broker: await store.open(options), reopen: () => store.open(options), cleanup: store.cleanup };
    },
  });

  runBrokerContract('redis, 4 log buckets', {
    durable: true,
    shared: true,
    shardedCaps: true,
    async create(opts): Promise<BrokerHandle> {
      const store = newStore();
      const options = { retention: opts.retention, logBuckets: 4, ...(opts.now ? { now: opts.now } : {}) };
      return { broker: await store.open(options), reopen: () => store.open(options), cleanup: store.cleanup };
    },
  });

  test('redis: a new process starts its live feed at the end of the log, history still has the past', async () => {
    const store = newStore();
    try {
      const one = await store.open();
      await one.publish(makeUpdate('old', 'urn:t'));
      const two = await store.open();
      const recorder = new Recorder(two);
      await one.publish(makeUpdate('new', 'urn:t'));
      await recorder.waitForId('new');
      assert.deepEqual(recorder.ids, ['new']);
      assert.deepEqual((await two.history({ filter: () => true, limit: 10 })).updates.map((u) => u.id), ['old', 'new']);
    } finally {
      await store.cleanup();
    }
  });

  test('redis: a burst far beyond the retention limits is still delivered live, completely, to every process', async () => {
    const store = newStore();
    try {
      const retention = { maxPerTopic: 5, maxAgeSeconds: 0, maxTotal: 50 };
      const one = await store.open({ retention });
      const two = await store.open({ retention });
      const recorders = [new Recorder(one), new Recorder(two)];
      const burst = Array.from({ length: 1000 }, (_, i) => `b${i}`);
      await Promise.all(burst.map((id) => one.publish(makeUpdate(id, 'urn:hot'))));
      for (const recorder of recorders) {
        await recorder.waitForId('b999');
        assert.deepEqual(recorder.ids, burst);
      }
      // History, unlike the live feed, keeps only what retention allows.
      assert.deepEqual((await two.history({ filter: () => true, limit: 100 })).updates.map((u) => u.id), burst.slice(-5));
    } finally {
      await store.cleanup();
    }
  });

  test('redis: trimmed entries leave the kept log at once and the stream after the grace period; no key outlives them', async () => {
    const store = newStore();
    try {
      const clock = new ManualClock();
      const broker = await store.open({ retention: { maxPerTopic: 3, maxAgeSeconds: 0, maxTotal: 5 }, now: clock.now, trimGraceMs: 1000 });
      const logKeys = async (): Promise<string[]> => (await keysOf(store.prefix)).filter((k) => k.startsWith('{log}'));
      const topicLengths = (): Promise<number[]> => Promise.all([0, 1, 2, 3].map((t) => admin.llen(`${store.prefix}{log}:topic:urn:t${t}`)));
      const stream = `${store.prefix}{log}:stream`;
      const entryIdsOf = async (ids: string[]): Promise<string[]> => {
        const entries = (await admin.xrange(stream, '-', '+')).map(([entryId, fields]) => [fields[fields.indexOf('id') + 1], entryId]);
        return ids.map((id) => entries.find(([updateId]) => updateId === id)?.[1] ?? `no entry for ${id}`);
      };
      for (let i = 1; i <= 40; i++) await broker.publish(makeUpdate(`k${i}`, `urn:t${i % 4}`));
      const topics = [0, 1, 2, 3].map((t) => `{log}:topic:urn:t${t}`);
      const idKeys = (ids: string[]): string[] => ids.map((id) => `{log}:id:${id}`);
      const indexes = (...ts: number[]): string[] => ts.map((t) => `{log}:ix:urn:t${t}`);
      const indexed = async (t: number): Promise<string[]> => (await admin.xrange(`${store.prefix}{log}:ix:urn:t${t}`, '-', '+')).map(([entryId, fields]) => `${entryId}=${fields.join(':')}`);
      const indexOf = async (ids: string[]): Promise<string[]> => (await entryIdsOf(ids)).map((entryId, i) => `${entryId}=u:${ids[i]}`);
      assert.deepEqual(await logKeys(), ['{log}:meta', '{log}:stream', ...idKeys(['k36', 'k37', 'k38', 'k39', 'k40']), ...indexes(0, 1, 2, 3), ...topics].sort());
      assert.deepEqual(await indexed(0), await indexOf(['k36', 'k40']), 'the index holds exactly the kept updates of its topic');
      assert.deepEqual(await topicLengths(), [2, 1, 1, 1], 'k36 k40 on t0, k37 on t1, k38 on t2, k39 on t3');
      assert.equal(await admin.hget(`${store.prefix}{log}:meta`, 'count'), '5');
      assert.equal(await admin.xlen(stream), 40, 'all still in the stream within the grace period');

      clock.advance(2000);
      await broker.publish(makeUpdate('k41', 'urn:t1'));
      assert.equal(await admin.xlen(stream), 5, 'the stream holds only the kept updates once the grace is over');
      assert.deepEqual(await logKeys(), ['{log}:meta', '{log}:stream', ...idKeys(['k37', 'k38', 'k39', 'k40', 'k41']), ...indexes(0, 1, 2, 3), ...topics].sort());
      assert.deepEqual(await indexed(0), await indexOf(['k40']));
      assert.deepEqual(await topicLengths(), [1, 2, 1, 1]);

      // Trimmed per topic, from the middle of the log: they wait in the doomed list.
      for (let i = 1; i <= 4; i++) await broker.publish(makeUpdate(`h${i}`, 'urn:t1'));
      // (k37..k39 left from the head as the log was full; then t1 overflowed twice)
      assert.deepEqual(await admin.lrange(`${store.prefix}{log}:topic:urn:t1`, 0, -1), await entryIdsOf(['h2', 'h3', 'h4']));
      assert.deepEqual(await admin.lrange(`${store.prefix}{log}:doomed`, 0, -1), await entryIdsOf(['k41', 'h1']));
      assert.deepEqual(await indexed(1), await indexOf(['h2', 'h3', 'h4']), 'trimmed from the middle: out of the index at once');
      assert.deepEqual(await indexed(3), [], 'k39 left from the head, and its emptied index with it');
      clock.advance(2000);
      await broker.publish(makeUpdate('last', 'urn:t2'));
      assert.equal(await admin.exists(`${store.prefix}{log}:doomed`), 0);
      const kept = (await broker.history({ filter: () => true, limit: 100 })).updates.map((u) => u.id);
      assert.deepEqual(kept, ['k40', 'h2', 'h3', 'h4', 'last']);
      assert.equal(await admin.xlen(stream), kept.length);
      assert.deepEqual((await logKeys()).filter((k) => k.startsWith('{log}:ix:')), indexes(0, 1, 2));
    } finally {
      await store.cleanup();
    }
  });

  test('redis: the index follows every way an update stops being kept: an id reused after aging out, presence leaving its window', async () => {
    const store = newStore();
    try {
      const clock = new ManualClock();
      const broker = await store.open({ retention: { maxPerTopic: 0, maxAgeSeconds: 10, maxTotal: 100, maxPresence: 2 }, now: clock.now });
      const indexKeys = async (): Promise<string[]> => (await keysOf(store.prefix)).filter((k) => k.startsWith('{log}:ix:'));
      const indexed = async (topic: string): Promise<string[]> => (await admin.xrange(`${store.prefix}{log}:ix:${topic}`, '-', '+')).map(([, fields]) => fields[1]!);
      await broker.publish(makeUpdate('a', ['urn:x', 'urn:y', 'urn:x']));
      assert.deepEqual(await indexKeys(), ['{log}:ix:urn:x', '{log}:ix:urn:y'], 'one entry per distinct topic');
      assert.deepEqual(await indexed('urn:x'), ['a']);
      clock.advance(11_000);
      await broker.publish(makeUpdate('a', 'urn:z'));
      assert.deepEqual(await indexKeys(), ['{log}:ix:urn:z']);
      for (const n of [1, 2, 3]) await broker.publishPresence(makeUpdate(`p${n}`, `/.well-known/mercure/subscriptions/p${n}`));
      assert.deepEqual((await indexKeys()).filter((k) => k.includes('subscriptions')), ['{log}:ix:/.well-known/mercure/subscriptions/p2', '{log}:ix:/.well-known/mercure/subscriptions/p3']);
      const hinted = await broker.history({ filter: () => true, topics: ['/.well-known/mercure/subscriptions/p1', '/.well-known/mercure/subscriptions/p3', 'urn:z', 'urn:x'], limit: 10 });
      assert.deepEqual(hinted.updates.map((u) => u.id), ['a', 'p3']);
    } finally {
      await store.cleanup();
    }
  });

  test('redis: the bucket count is recorded on first start; another one is refused with a clear error', async () => {
    const store = newStore();
    try {
      await store.open();
      assert.equal(await admin.get(`${store.prefix}{layout}:log-buckets`), '1');
      await store.open({ logBuckets: 1 });
      const refused = (e: unknown): boolean => isHeraldError(e) && e.code === 'invalid_config';
      await assert.rejects(store.open({ logBuckets: 4 }), refused);
      await admin.set(`${store.prefix}{layout}:log-buckets`, '4');
      await assert.rejects(store.open(), (e: unknown) => refused(e) && /created with --redis-log-buckets 4, and this process was started with 1/.test((e as Error).message));
    } finally {
      await store.cleanup();
    }
  });

  test('redis: description hides credentials; a bad URL is invalid_config', () => {
    assert.equal(describeRedisUrl('redis://user:s3cret@127.0.0.1:6380/2'), 'redis://127.0.0.1:6380/2');
    assert.equal(describeRedisUrl('rediss://:pw@cache.example:6379'), 'rediss://cache.example:6379');
    for (const bad of ['http://127.0.0.1:6379', 'not a url']) {
      assert.throws(() => describeRedisUrl(bad), (e: unknown) => isHeraldError(e) && e.code === 'invalid_config');
    }
  });
}
