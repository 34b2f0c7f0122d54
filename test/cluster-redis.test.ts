// Two Herald processes (the real CLI) sharing the Redis at 127.0.0.1:6379 under a key
// prefix of their own: updates and presence cross from one process to the other.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { hubUrl, PUBLISHER_KEY, publishOk, publisherToken, SUBSCRIBER_KEY, subscriberToken } from './support/herald.js';
import { spawnHerald, type HeraldProcess } from './support/process.js';
import { deleteKeys, SHARED_REDIS, uniquePrefix } from './support/redis-prefix.js';
import { collect } from './support/stream.js';

const prefix = uniquePrefix('cluster-redis');
let a: HeraldProcess | undefined;
let b: HeraldProcess | undefined;

before(async () => {
  const args = ['--store', SHARED_REDIS, '--redis-prefix', prefix, '--publisher-jwt-key', PUBLISHER_KEY, '--subscriber-jwt-key', SUBSCRIBER_KEY];
  [a, b] = await Promise.all([spawnHerald(args), spawnHerald(args)]);
});
after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await deleteKeys(prefix);
});

test('cluster: a publish on A reaches a subscriber on B, and B\'s on A, each once and in order', async () => {
  const topic = 'https://example.com/cluster/crossing';
  const onB = collect(hubUrl(b!.url, [['topic', topic]]));
  const onA = collect(hubUrl(a!.url, [['topic', topic]]));
  try {
    await Promise.all([onA.opened, onB.opened]);
    const token = await publisherToken();
    const ids = [
      await publishOk(a!.url, { topic, id: 'from-a-1', data: 'one' }, token),
      await publishOk(b!.url, { topic, id: 'from-b-2', data: 'two' }, token),
      await publishOk(a!.url, { topic, id: 'from-a-3', data: 'three' }, token),
    ];
    for (const stream of [onA, onB]) {
      const events = await stream.waitFor(3);
      assert.deepEqual(events.map((e) => [e.id, e.data]), [['from-a-1', 'one'], ['from-b-2', 'two'], ['from-a-3', 'three']]);
    }
    assert.deepEqual(ids, ['from-a-1', 'from-b-2', 'from-a-3']);
    // A resume on the other process replays from the shared log.
    const resumed = collect(hubUrl(b!.url, [['topic', topic], ['lastEventID', 'from-a-1']]));
    assert.deepEqual((await resumed.waitFor(2)).map((e) => e.id), ['from-b-2', 'from-a-3']);
    resumed.close();
    assert.equal(onA.events.length, 3, 'no duplicate on A');
    assert.equal(onB.events.length, 3, 'no duplicate on B');
  } finally {
    onA.close();
    onB.close();
  }
});

test('cluster: the subscriptions API on A lists a subscriber connected to B', async () => {
  const topic = 'https://example.com/cluster/presence';
  const token = await subscriberToken(['*']);
  // Subscription events are private updates on the subscription's IRI: watch them on A
  // to know when B has recorded its subscriber (the record is stored before the event).
  const watcher = collect(hubUrl(a!.url, [['topic', '/.well-known/mercure/subscriptions{/type}{/match}{/subscriber}']]), { token, eventTypes: ['mercure'] });
  await watcher.opened;
  const subscriber = collect(hubUrl(b!.url, [['topic', topic]]), { token: await subscriberToken([topic], { name: 'on-b' }) });
  try {
    await subscriber.opened;
    const deadline = Date.now() + 5000;
    let announced: { subscriber: string; active: boolean } | undefined;
    while (announced === undefined) {
      assert.ok(Date.now() < deadline, 'no subscription event for B\'s subscriber');
      await watcher.waitFor(watcher.events.length + 1, 5000);
      announced = watcher.events
        .map((e) => JSON.parse(e.data) as { match: string; subscriber: string; active: boolean })
        .find((s) => s.match === topic && s.active);
    }
    const response = await fetch(`${a!.url}/.well-known/mercure/subscriptions`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { subscriptions: Array<{ id: string; match: string; subscriber: string; payload?: unknown; active: boolean }> };
    const listed = body.subscriptions.filter((s) => s.match === topic);
    const id = `/.well-known/mercure/subscriptions/exact/${encodeURIComponent(topic)}/${encodeURIComponent(announced.subscriber)}`;
    assert.deepEqual(listed, [{ id, type: 'subscription', match_type: 'exact', match: topic, subscriber: announced.subscriber, active: true, payload: { name: 'on-b' } }]);
  } finally {
    subscriber.close();
    watcher.close();
  }
});
