// The Redis broker through the shared contract (reopen() is a second hub process on the
// same Redis and prefix), plus what only a shared store does: presence of a process
// that died, start-up position of the reader, and no key outliving its update.
// Needs Redis at HERALD_TEST_REDIS_URL (default 127.0.0.1:6379); fails under CI without it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { isHeraldError } from '../errors.js';
import { runBrokerContract, KEEP_ALL, makeUpdate, ManualClock, Recorder } from './contract.js';
import type { BrokerHandle } from './contract.js';
import { describeRedisUrl } from './redis-connection.js';
import { createRedisBroker, type RedisBroker, type RedisBrokerOptions } from './redis.js';
import type { SubscriptionRecord } from './types.js';

const url = process.env.HERALD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const runPrefix = `herald-test:${randomUUID()}:`;
let storeCount = 0;

const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
admin.on('error', () => {});
const reachable = await admin.connect().then(
  () => true,
  () => false,
);
if (!reachable && process.env.CI) throw new Error(`Redis is required under CI but ${url} is unreachable`);

async function deleteKeys(prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) deleted += await admin.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

async function keysOf(prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    found.push(...keys.map((k) => k.slice(prefix.length)));
  } while (cursor !== '0');
  return found.sort();
}

/** A fresh prefix (an empty store) and every broker opened on it, for cleanup. */
function newStore(): { prefix: string; open: (extra?: Partial<RedisBrokerOptions>) => Promise<RedisBroker>; cleanup: () => Promise<void> } {
  const prefix = `${runPrefix}${++storeCount}:`;
  const opened: RedisBroker[] = [];
  return {
    prefix,
    async open(extra = {}) {
      const broker = await createRedisBroker({ url, prefix, retention: KEEP_ALL, ...extra });
      opened.push(broker);
      return broker;
    },
    async cleanup() {
      await Promise.all(opened.map((b) => b.close()));
      await deleteKeys(prefix);
    },
  };
}

after(async () => {
  if (reachable) {
    // Every case cleaned up after itself; this catches one that did not.
    const leftovers = await keysOf(runPrefix);
    await deleteKeys(runPrefix);
    admin.disconnect();
    assert.deepEqual(leftovers, [], 'keys left behind by the tests');
  }
});

if (!reachable) {
  test('redis broker', { skip: `Redis is not reachable at ${url}; start it with: redis-server --daemonize yes --port 6379 --save ""` }, () => {});
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

  const record = (subscriber: string): SubscriptionRecord => ({
    id: `/.well-known/mercure/subscriptions/urn%3Aroom/${encodeURIComponent(subscriber)}`,
    topic: 'urn:room',
    subscriber,
    payload: { name: subscriber },
  });

  test('redis: a process that stops heart-beating has its subscriptions expired exactly once, on one survivor', async () => {
    const store = newStore();
    try {
      const ttl = 300;
      const dead = await store.open({ presenceTtlMs: ttl });
      const survivors = [await store.open({ presenceTtlMs: ttl }), await store.open({ presenceTtlMs: ttl })];
      const reports: { by: number; ids: string[] }[] = [];
      let reported: () => void = () => {};
      const firstReport = new Promise<void>((resolve) => (reported = resolve));
      survivors.forEach((broker, by) =>
        broker.onSubscriptionsExpired((records) => {
          reports.push({ by, ids: records.map((r) => r.id).sort() });
          reported();
        }),
      );
      const gone = [record('urn:uuid:a'), record('urn:uuid:b')];
      await dead.addSubscriptions(gone);
      await survivors[0]!.addSubscriptions([record('urn:uuid:alive')]);
      assert.equal((await survivors[1]!.listSubscriptions()).length, 3);

      const crashedAt = Date.now();
      await dead.simulateCrash();
      await withDeadline(firstReport, 10 * ttl, 'the expiry report');
      const latency = Date.now() - crashedAt;
      // The last heartbeat came up to ttl/3 before the crash.
      assert.ok(latency >= ttl / 2, `reported ${latency} ms after the crash, before the ttl ran out`);
      assert.deepEqual(reports.map((r) => r.ids), [gone.map((r) => r.id).sort()]);
      assert.deepEqual((await survivors[1]!.listSubscriptions()).map((r) => r.id), [record('urn:uuid:alive').id]);
      // Nothing left to claim, so no second report can come; watch a few more sweeps anyway.
      // (the second survivor holds no records, and Redis keeps no empty hash)
      assert.deepEqual(await keysOf(store.prefix), [`{presence}:node:${survivors[0]!.nodeId}`, '{presence}:nodes'].sort());
      assert.equal(await admin.zscore(`${store.prefix}{presence}:nodes`, dead.nodeId), null);
      await new Promise((resolve) => setTimeout(resolve, 3 * ttl));
      assert.equal(reports.length, 1, `reported ${reports.length} times`);
    } finally {
      await store.cleanup();
    }
  });

  test('redis: a restarted process with the same nodeId reports what its previous run left', async () => {
    const store = newStore();
    try {
      const first = await store.open({ nodeId: 'node-a', presenceTtlMs: 60_000 });
      await first.addSubscriptions([record('urn:uuid:x')]);
      await first.simulateCrash();
      const again = await store.open({ nodeId: 'node-a', presenceTtlMs: 150 });
      const report = new Promise<SubscriptionRecord[]>((resolve) => again.onSubscriptionsExpired(resolve));
      assert.deepEqual(await again.listSubscriptions(), [], 'the leftovers are not listed as live');
      const expired = await withDeadline(report, 2000, 'the leftovers report');
      assert.deepEqual(expired, [record('urn:uuid:x')]);
    } finally {
      await store.cleanup();
    }
  });

  test('redis: a process swept while alive (stalled) puts its subscriptions back on its next heartbeat', async () => {
    const store = newStore();
    try {
      const broker = await store.open({ presenceTtlMs: 150 });
      await broker.addSubscriptions([record('urn:uuid:s1'), record('urn:uuid:s2')]);
      // What a sweeper on another process does to a node it believes dead.
      await admin.multi().zrem(`${store.prefix}{presence}:nodes`, broker.nodeId).del(`${store.prefix}{presence}:node:${broker.nodeId}`).exec();
      assert.deepEqual(await broker.listSubscriptions(), []);
      const deadline = Date.now() + 2000;
      let listed: string[] = [];
      while (listed.length < 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        listed = (await broker.listSubscriptions()).map((r) => r.subscriber).sort();
      }
      assert.deepEqual(listed, ['urn:uuid:s1', 'urn:uuid:s2']);
    } finally {
      await store.cleanup();
    }
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
      assert.deepEqual(await logKeys(), ['{log}:meta', '{log}:stream', ...idKeys(['k36', 'k37', 'k38', 'k39', 'k40']), ...topics].sort());
      assert.deepEqual(await topicLengths(), [2, 1, 1, 1], 'k36 k40 on t0, k37 on t1, k38 on t2, k39 on t3');
      assert.equal(await admin.hget(`${store.prefix}{log}:meta`, 'count'), '5');
      assert.equal(await admin.xlen(stream), 40, 'all still in the stream within the grace period');

      clock.advance(2000);
      await broker.publish(makeUpdate('k41', 'urn:t1'));
      assert.equal(await admin.xlen(stream), 5, 'the stream holds only the kept updates once the grace is over');
      assert.deepEqual(await logKeys(), ['{log}:meta', '{log}:stream', ...idKeys(['k37', 'k38', 'k39', 'k40', 'k41']), ...topics].sort());
      assert.deepEqual(await topicLengths(), [1, 2, 1, 1]);

      // Trimmed per topic, from the middle of the log: they wait in the doomed list.
      for (let i = 1; i <= 4; i++) await broker.publish(makeUpdate(`h${i}`, 'urn:t1'));
      // (k37..k39 left from the head as the log was full; then t1 overflowed twice)
      assert.deepEqual(await admin.lrange(`${store.prefix}{log}:topic:urn:t1`, 0, -1), await entryIdsOf(['h2', 'h3', 'h4']));
      assert.deepEqual(await admin.lrange(`${store.prefix}{log}:doomed`, 0, -1), await entryIdsOf(['k41', 'h1']));
      clock.advance(2000);
      await broker.publish(makeUpdate('last', 'urn:t2'));
      assert.equal(await admin.exists(`${store.prefix}{log}:doomed`), 0);
      const kept = (await broker.history({ filter: () => true, limit: 100 })).updates.map((u) => u.id);
      assert.deepEqual(kept, ['k40', 'h2', 'h3', 'h4', 'last']);
      assert.equal(await admin.xlen(stream), kept.length);
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

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
