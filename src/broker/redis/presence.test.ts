// The Redis broker's presence across processes: a process that dies without a goodbye
// has its subscriptions reported once, by one survivor; a restarted node id reports its
// leftovers; a node swept while alive puts its records back and reports them restored,
// and a record it removed meanwhile is not reported twice. Needs Redis (see redis.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { admin, connectTestRedis, keysOf, newStore, unreachableReason, withDeadline } from './test-kit.js';
import type { SubscriptionRecord } from '../types.js';

const reachable = await connectTestRedis();

if (!reachable) {
  test('redis presence', { skip: unreachableReason }, () => {});
} else {
  const record = (subscriber: string): SubscriptionRecord => ({
    id: `/.well-known/mercure/subscriptions/urn%3Aroom/${encodeURIComponent(subscriber)}`,
    topic: 'urn:room',
    subscriber,
    payload: { name: subscriber },
  });

  test('redis: a process that stops heart-beating has its subscriptions expired exactly once, on one survivor', async () => {
    const store = newStore();
    try {
      // Long enough that a loaded box does not make a survivor miss its own heartbeats (every ttl/3).
      const ttl = 1000;
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
      // (the second survivor holds no records, and Redis keeps no empty hash; each node has its own hash tag)
      const [first, second] = survivors.map((s) => s!.nodeId);
      assert.deepEqual(await keysOf(store.prefix), [`{presence:${first}}:node`, `{presence:${first}}:alive`, `{presence:${second}}:alive`, '{presence}:nodes', '{layout}:log-buckets'].sort());
      assert.equal(await admin.exists(`${store.prefix}{presence:${dead.nodeId}}:alive`), 0);
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
      const restored = new Promise<SubscriptionRecord[]>((resolve) => broker.onSubscriptionsRestored(resolve));
      await broker.addSubscriptions([record('urn:uuid:s1'), record('urn:uuid:s2')]);
      // What a sweeper on another process does to a node it believes dead.
      await admin.zrem(`${store.prefix}{presence}:nodes`, broker.nodeId);
      await admin.del(`${store.prefix}{presence:${broker.nodeId}}:node`, `${store.prefix}{presence:${broker.nodeId}}:alive`);
      assert.deepEqual(await broker.listSubscriptions(), []);
      const deadline = Date.now() + 2000;
      let listed: string[] = [];
      while (listed.length < 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        listed = (await broker.listSubscriptions()).map((r) => r.subscriber).sort();
      }
      assert.deepEqual(listed, ['urn:uuid:s1', 'urn:uuid:s2']);
      const back = await withDeadline(restored, 2000, 'the restored report');
      assert.deepEqual(back.map((r) => r.subscriber).sort(), ['urn:uuid:s1', 'urn:uuid:s2']);
    } finally {
      await store.cleanup();
    }
  });

  test('redis: a frozen process swept by a survivor gets exactly one leave per record and a restore for the ones still there', async () => {
    const store = newStore();
    try {
      // The frozen one beats only when told (its 20 s timer never fires here); the
      // survivor finds it dead 100 ms after its last write.
      const frozen = await store.open({ presenceTtlMs: 60_000 });
      const survivor = await store.open({ presenceTtlMs: 100 });
      const restores: string[][] = [];
      frozen.onSubscriptionsRestored((records) => restores.push(records.map((r) => r.subscriber).sort()));
      const expired = new Promise<SubscriptionRecord[]>((resolve) => survivor.onSubscriptionsExpired(resolve));
      const [left, stays, untouched] = [record('urn:uuid:left'), record('urn:uuid:stays'), record('urn:uuid:untouched')];
      await frozen.addSubscriptions([left, stays, untouched]);
      const reported = await withDeadline(expired, 3000, 'the survivor reporting the frozen node');
      // Closed at once, so it cannot sweep the frozen node a second time.
      await survivor.close();
      assert.deepEqual(reported.map((r) => r.subscriber).sort(), ['urn:uuid:left', 'urn:uuid:stays', 'urn:uuid:untouched']);
      assert.deepEqual(await frozen.listSubscriptions(), []);

      // Still frozen as far as Redis knows: its client left; the survivor announced that leave.
      assert.deepEqual(await frozen.removeSubscriptions([left.id]), [], 'no second leave');
      assert.deepEqual(restores, []);

      // It wakes up: what is still connected is listed again and reported restored, once.
      await frozen.heartbeatNow();
      assert.deepEqual(restores, [['urn:uuid:stays', 'urn:uuid:untouched']]);
      assert.deepEqual((await frozen.listSubscriptions()).map((r) => r.subscriber).sort(), ['urn:uuid:stays', 'urn:uuid:untouched']);
      await frozen.heartbeatNow();
      assert.equal(restores.length, 1, 'restored once');
      // From now on a leave is a normal one.
      assert.deepEqual(await frozen.removeSubscriptions([stays.id]), [stays.id]);

      // Woken by a new subscriber rather than by its timer: the same, and the newcomer is not "restored".
      const again = new Promise<SubscriptionRecord[]>((resolve) => {
        const reopened = store.open({ presenceTtlMs: 100 });
        void reopened.then((sweeper) => sweeper.onSubscriptionsExpired((records) => void sweeper.close().then(() => resolve(records))));
      });
      await frozen.addSubscriptions([record('urn:uuid:late')]);
      assert.deepEqual((await withDeadline(again, 3000, 'the second sweep')).map((r) => r.subscriber).sort(), ['urn:uuid:late', 'urn:uuid:untouched']);
      await frozen.addSubscriptions([record('urn:uuid:newcomer')]);
      assert.deepEqual(restores, [['urn:uuid:stays', 'urn:uuid:untouched'], ['urn:uuid:late', 'urn:uuid:untouched']]);
      assert.deepEqual((await frozen.listSubscriptions()).map((r) => r.subscriber).sort(), ['urn:uuid:late', 'urn:uuid:newcomer', 'urn:uuid:untouched']);
    } finally {
      await store.cleanup();
    }
  });
}
