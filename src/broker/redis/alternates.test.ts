// Interest filtering and alternate topics (docs/redis.md, "Alternates across buckets"):
// a process following only topic T receives live every update naming T as an alternate
// from another bucket, including the first one from each bucket (the marker path) and
// ones from buckets recorded before it followed (the hash path), in the global order,
// once each, while publishers race in every bucket.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeUpdate, Recorder } from '../contract/contract.js';
import { bucketOf } from './buckets.js';
import { connectTestRedis, newStore, topicsByBucket, unreachableReason } from './test-kit.js';
import { KEEP_ALL } from '../contract/contract.js';
import { createRedisBroker } from './redis-broker.js';
import { skipWithoutRedisServer, startStandaloneRedis, waitFor } from './topology-kit.js';
import type { Update } from '../types.js';

const BUCKETS = 4;
const reachable = await connectTestRedis();

if (!reachable) {
  test('redis alternates', { skip: unreachableReason }, () => {});
} else {
  test('interest: a follower of T gets live, in the global order and once each, the updates other buckets publish with T as an alternate', { timeout: 60_000 }, async () => {
    const store = newStore();
    try {
      const topics = topicsByBucket(BUCKETS, 'urn:alt:');
      const t = topics[0]!;
      const others = topics.slice(1);
      const publishers = await Promise.all([1, 2].map(() => store.open({ logBuckets: BUCKETS })));
      const follower = await store.open({ logBuckets: BUCKETS, interest: true });
      const recorder = new Recorder(follower);
      const release = await follower.follow!([t]);
      const names = (u: Update): boolean => u.topics.includes(t);

      // Rounds of concurrent bursts: the first update naming T from each other bucket
      // (a new marker) races with plain updates of every bucket and further alternates.
      const burst = async (label: string): Promise<void> => {
        await Promise.all(publishers.map(async (p, n) => {
          const sent = Array.from({ length: 30 }, (_, i) => {
            const own = others[(i + n) % others.length]!;
            const kind = i % 3;
            return makeUpdate(`${label}-${n}-${i}`, kind === 0 ? [own, t] : kind === 1 ? own : [own, topics[(i + 2) % BUCKETS]!, t]);
          });
          await Promise.all(sent.map((u) => p.publish(u)));
        }));
      };
      await burst('first');
      await burst('second');
      await publishers[0]!.publish(makeUpdate('end', t));
      await recorder.waitForId('end', 20_000);
      const history = (await follower.history({ filter: names, topics: [t], limit: 10_000, oldestFirst: true })).updates.map((u) => u.id);
      const live = recorder.updates.filter(names).map((u) => u.id);
      assert.equal(history.length, 2 * 2 * 20 + 1, 'two thirds of each burst name T');
      assert.equal(new Set(live).size, live.length, 'no duplicate delivery');
      assert.deepEqual(live, history, 'every update naming T, live, in the global order');

      // A process following T after the buckets were recorded joins them at once (the hash).
      const late = await store.open({ logBuckets: BUCKETS, interest: true });
      const lateRecorder = new Recorder(late);
      const releaseLate = await late.follow!([t]);
      await publishers[1]!.publish(makeUpdate('via-hash', [others[0]!, t]));
      await publishers[1]!.publish(makeUpdate('end-2', t));
      await lateRecorder.waitForId('end-2');
      assert.deepEqual(lateRecorder.updates.filter(names).map((u) => u.id), ['via-hash', 'end-2']);

      // Released: the buckets followed for T are no longer read.
      releaseLate();
      release();
      // A topic no update names as an alternate, in the bucket of others[1].
      let fresh = 'urn:fresh:0';
      for (let i = 1; bucketOf(fresh, BUCKETS) !== bucketOf(others[1]!, BUCKETS); i++) fresh = `urn:fresh:${i}`;
      const releaseOther = await late.follow!([fresh]);
      await publishers[0]!.publish(makeUpdate('on-other-0', others[0]!));
      await publishers[0]!.publish(makeUpdate('end-3', fresh));
      await lateRecorder.waitForId('end-3');
      assert.equal(lateRecorder.ids.includes('on-other-0'), false, 'bucket of others[0] is left with T');
      releaseOther();
    } finally {
      await store.cleanup();
    }
  });

  test('interest: an update naming T from a publisher whose clock is behind still sorts after the marker, and arrives live', { timeout: 30_000 }, async () => {
    const store = newStore();
    try {
      const [t, x] = topicsByBucket(BUCKETS, 'urn:skew:');
      // Publishers that read nothing (interest, no follows), so no reader ticks a bucket
      // past what it emitted. The slow one is 5 s behind: its stamps fall below T's
      // bucket's clock, so only the stamp floor puts its update past the marker.
      const fast = await store.open({ logBuckets: BUCKETS, interest: true });
      const slow = await store.open({ logBuckets: BUCKETS, interest: true, now: () => Date.now() - 5000 });
      const follower = await store.open({ logBuckets: BUCKETS, interest: true });
      const recorder = new Recorder(follower);
      const release = await follower.follow!([t!]);
      await fast.publish(makeUpdate('on-t', t!));
      await slow.publish(makeUpdate('skewed', [x!, t!]));
      await fast.publish(makeUpdate('end', t!));
      await recorder.waitForId('end');
      assert.deepEqual(recorder.ids, ['on-t', 'skewed', 'end']);
      release();
    } finally {
      await store.cleanup();
    }
  });
}

// A server of its own: the test kills one of the follower's connections by name.
test('interest: a marker that reaches the merge after its bucket was joined for another follow (from its end, past the update) still delivers that update', { skip: skipWithoutRedisServer, timeout: 30_000 }, async () => {
  const redis = await startStandaloneRedis();
  const admin = redis.server.client();
  const options = { url: `redis://127.0.0.1:${redis.server.port}`, prefix: 'rejoin:', retention: KEEP_ALL, logBuckets: BUCKETS, interest: true };
  const [t, x] = topicsByBucket(BUCKETS, 'urn:rejoin:');
  const publisher = await createRedisBroker(options);
  const follower = await createRedisBroker(options);
  try {
    const recorder = new Recorder(follower);
    await follower.follow!([t!]);
    // The follower's reader of T's bucket drops: it reads the marker only after it reconnects (100 ms backoff).
    const clients = String(await admin.client('LIST')).split('\n');
    const reader = clients.find((line) => line.includes(`name=herald-reader-${bucketOf(t!, BUCKETS)} `));
    assert.ok(reader, 'the follower reads the bucket of T');
    await admin.client('KILL', 'ID', /id=(\d+)/.exec(reader)![1]!);
    await publisher.publish(makeUpdate('announced', [x!, t!]));
    // Another subscriber's follow joins the bucket of x from its end, past 'announced'.
    await follower.follow!([x!]);
    await publisher.publish(makeUpdate('end', t!));
    await waitFor('the end update', 20_000, () => recorder.ids.includes('end'));
    assert.deepEqual(recorder.ids, ['announced', 'end']);
  } finally {
    await Promise.all([publisher.close(), follower.close()]);
    await redis.stop();
  }
});
