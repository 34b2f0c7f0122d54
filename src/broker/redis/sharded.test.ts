// The sharded log (--redis-log-buckets > 1) beyond the contract: three processes under
// concurrent publishers on topics of every bucket emit one identical order, history
// has that order, and a resume from any plain id over several topics (index or scan)
// is exactly the rest of that order: no gap, no duplicate. Ids stay unique across buckets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeraldError } from '../../errors.js';
import { makeUpdate, Recorder } from '../contract/contract.js';
import { bucketOf } from './buckets.js';
import { connectTestRedis, newStore, topicsByBucket, unreachableReason } from './test-kit.js';
import type { Update } from '../types.js';

const BUCKETS = 4;
const reachable = await connectTestRedis();

if (!reachable) {
  test('redis sharded log', { skip: unreachableReason }, () => {});
} else {
  test('sharded: three processes under concurrent publishers emit the same order, history has it, and resumes from any id are exact', { timeout: 60_000 }, async () => {
    const store = newStore();
    try {
      const processes = await Promise.all([1, 2, 3].map(() => store.open({ logBuckets: BUCKETS })));
      const recorders = processes.map((p) => new Recorder(p));
      const topics = Array.from({ length: 24 }, (_, i) => `urn:topic:${i}`);
      assert.equal(new Set(topics.map((t) => bucketOf(t, BUCKETS))).size, BUCKETS, 'every bucket has topics');
      const published: Update[] = [];
      // Every process publishes, bursts in flight at once, some updates naming several topics.
      await Promise.all(processes.map(async (p, n) => {
        for (let round = 0; round < 10; round++) {
          const burst = Array.from({ length: 20 }, (_, i) => {
            const k = (round * 20 + i) * 3 + n;
            const first = topics[(k * 7) % topics.length]!;
            return makeUpdate(`p${n}-${round}-${i}`, k % 5 === 0 ? [first, topics[(k + 1) % topics.length]!] : first);
          });
          published.push(...burst);
          await Promise.all(burst.map((u) => p.publish(u)));
        }
      }));
      const last = 'marker';
      await processes[0]!.publish(makeUpdate(last, topics[0]!));
      for (const r of recorders) await r.waitForId(last, 20_000);
      const order = recorders[0]!.ids;
      assert.equal(order.length, published.length + 1);
      assert.equal(new Set(order).size, order.length, 'no duplicate delivery');
      for (const r of recorders.slice(1)) assert.deepEqual(r.ids, order, 'every process emits the same order');
      const history = (await processes[1]!.history({ filter: () => true, limit: 10_000 })).updates.map((u) => u.id);
      assert.deepEqual(history, order, 'history is in the live order');
      // Each process's own burst order within one bucket is kept (one connection, one slot).
      const byId = new Map(published.map((u) => [u.id, u]));
      byId.set(last, makeUpdate(last, topics[0]!));

      // Resume from ids spread over the log, for subscribers of a few exact topics (index) and of everything (scan).
      for (let trial = 0; trial < 25; trial++) {
        const from = order[(trial * 37) % order.length]!;
        const wanted = new Set([topics[trial % topics.length]!, topics[(trial * 5 + 3) % topics.length]!, topics[(trial * 11 + 1) % topics.length]!]);
        const accepts = (u: Update): boolean => u.topics.some((t) => wanted.has(t));
        const expected = order.slice(order.indexOf(from) + 1).filter((id) => accepts(byId.get(id)!));
        const reader = processes[trial % 3]!;
        for (const hint of [{ topics: [...wanted] }, {}]) {
          const got: string[] = [];
          let cursor = from;
          for (let page = 0; page < 100; page++) {
            const result = await reader.history({ afterId: cursor, filter: accepts, ...hint, limit: 7, oldestFirst: true, maxScan: 50 });
            assert.equal(result.found, true);
            got.push(...result.updates.map((u) => u.id));
            const next = result.next ?? result.updates.at(-1)?.id;
            if (next === undefined || (result.next === undefined && !result.truncated)) break;
            cursor = next;
          }
          assert.deepEqual(got, expected, `resume after ${from} for ${[...wanted].join(' ')} ${'topics' in hint ? 'by index' : 'by scan'}`);
        }
      }
    } finally {
      await store.cleanup();
    }
  });

  test('sharded: an id is unique across buckets, and free again once trimmed; one busy bucket is not held back by idle ones', async () => {
    const store = newStore();
    try {
      const [a, b, c] = topicsByBucket(BUCKETS);
      const broker = await store.open({ logBuckets: BUCKETS, retention: { maxPerTopic: 1, maxAgeSeconds: 0, maxTotal: 1000 } });
      const other = await store.open({ logBuckets: BUCKETS, retention: { maxPerTopic: 1, maxAgeSeconds: 0, maxTotal: 1000 } });
      const recorder = new Recorder(other);
      await broker.publish(makeUpdate('same', a!));
      const duplicate = (e: unknown): boolean => isHeraldError(e) && e.code === 'duplicate_id';
      await assert.rejects(broker.publish(makeUpdate('same', b!)), duplicate);
      await assert.rejects(other.publish(makeUpdate('same', c!)), duplicate);
      const twins = await Promise.allSettled([broker.publish(makeUpdate('twin', b!)), other.publish(makeUpdate('twin', c!))]);
      assert.deepEqual(twins.map((t) => t.status).sort(), ['fulfilled', 'rejected']);
      // Trimmed (maxPerTopic 1): the id is free again, in any bucket.
      await broker.publish(makeUpdate('after', a!));
      await broker.publish(makeUpdate('same', c!));
      for (let i = 0; i < 50; i++) await broker.publish(makeUpdate(`busy${i}`, a!));
      await recorder.waitForId('busy49');
      assert.deepEqual(recorder.ids.filter((id) => id.startsWith('busy')), Array.from({ length: 50 }, (_, i) => `busy${i}`));
      assert.equal((await other.history({ afterId: 'same', filter: () => true, topics: [a!], limit: 10 })).updates.length, 1, 'busy49 alone is kept on its topic');
    } finally {
      await store.cleanup();
    }
  });
}

if (reachable) {
  test('sharded interest: a process reads only the buckets it follows; a bucket joined while publishing loses nothing between the follow and the history read', { timeout: 60_000 }, async () => {
    const store = newStore();
    try {
      const [a, b, c] = topicsByBucket(BUCKETS);
      const publisher = await store.open({ logBuckets: BUCKETS });
      const follower = await store.open({ logBuckets: BUCKETS, interest: true });
      const recorder = new Recorder(follower);
      await publisher.publish(makeUpdate('before-any', a!));
      const releaseB = await follower.follow!([b!]);
      await publisher.publish(makeUpdate('on-a', a!));
      await publisher.publish(makeUpdate('on-b', b!));
      await recorder.waitForId('on-b');
      assert.deepEqual(recorder.ids, ['on-b'], 'bucket a is not read');

      // Join bucket a while updates stream into it; the hub's sequence: follow, then read history.
      let publishing = true;
      const acked: string[] = [];
      const writer = (async () => {
        for (let i = 0; publishing; i++) {
          await publisher.publish(makeUpdate(`race${i}`, i % 2 === 0 ? a! : c!));
          acked.push(`race${i}`);
        }
      })();
      while (acked.length < 20) await new Promise((resolve) => setTimeout(resolve, 5));
      const start = acked[5]!;
      const releaseA = await follower.follow!([a!]);
      const replay = (await follower.history({ afterId: start, filter: (u) => u.topics[0] === a, topics: [a!], limit: 10_000, oldestFirst: true })).updates.map((u) => u.id);
      while (acked.length < 60) await new Promise((resolve) => setTimeout(resolve, 5));
      publishing = false;
      await writer;
      await publisher.publish(makeUpdate('end', a!));
      await recorder.waitForId('end');
      const live = recorder.ids.filter((id) => id.startsWith('race'));
      const expected = acked.slice(acked.indexOf(start) + 1).filter((id) => Number(id.slice(4)) % 2 === 0);
      // Replay, then the live updates it did not cover: exactly the updates after `start`, in order.
      const seen = [...replay, ...live.filter((id) => !replay.includes(id))];
      assert.deepEqual(seen, expected);
      assert.ok(live.every((id) => Number(id.slice(4)) % 2 === 0), 'bucket c is still not read');
      assert.ok(live.length > 0 && replay.length > 0, `both parts carry some: replay ${replay.length}, live ${live.length}`);
      const history = (await follower.history({ filter: () => true, limit: 10_000 })).updates.map((u) => u.id);
      const followed = new Set([a, b]);
      const inBuckets = history.filter((id) => recorder.ids.includes(id));
      assert.deepEqual(recorder.ids.filter((id) => inBuckets.includes(id)), inBuckets, 'live order is the global order');
      assert.ok(history.length > 0 && followed.size === 2);

      // Released: bucket b is no longer read.
      releaseB();
      await publisher.publish(makeUpdate('on-b-2', b!));
      await publisher.publish(makeUpdate('end-2', a!));
      await recorder.waitForId('end-2');
      assert.equal(recorder.ids.includes('on-b-2'), false);
      releaseA();
      // 'all' follows every bucket, as a pattern subscriber needs.
      const releaseAll = await follower.follow!('all');
      await publisher.publish(makeUpdate('on-c', c!));
      await recorder.waitForId('on-c');
      releaseAll();
    } finally {
      await store.cleanup();
    }
  });
}
