// Contract cases for publishing and fan-out: exactly-once delivery in call order,
// updates that come back exactly as published, unique ids, unsubscribing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHeraldError } from '../../errors.js';
import type { BrokerFactory } from './kit.js';
import { allIds, idRange, makeUpdate, Recorder, settle, withBroker } from './kit.js';
import type { Update } from '../types.js';

/** Updates whose fields are easy to mangle on the way to a store and back. */
export function trickyUpdates(): Update[] {
  return [
    makeUpdate('urn:uuid:5b1c1a9e-8f0e-4c7a-9d3b-1f2e3d4c5b6a', 'https://example.com/books/1', { data: '' }),
    makeUpdate('t-lines', 'https://example.com/books/1', { data: 'a\nb\r\nc\rd\n\n  indented\n' }),
    makeUpdate('t-unicode é/ü #1 ?x=1&y', ['/chat/général', '/chat/*'], { data: 'héllo 🌍 \u{10FFFF} \u2028 \0 end' }),
    makeUpdate('t-private', ['https://example.com/users/7', 'https://example.com/alt'], { private: true, data: '{"a":[1,2]}' }),
    makeUpdate('t-type-retry', 'urn:topic', { type: 'message', retry: 0 }),
    makeUpdate('t-retry-only', 'urn:topic', { retry: 2500 }),
    makeUpdate('t-type-only', 'urn:topic', { type: 'ping' }),
    makeUpdate('t-big', 'urn:topic', { data: 'x'.repeat(64 * 1024) }),
  ];
}

/** Asserts field by field, so that `type: null` or `retry: undefined` keys fail too. */
export function assertSameUpdates(actual: readonly Update[], expected: readonly Update[]): void {
  assert.deepEqual(
    actual.map((u) => u.id),
    expected.map((u) => u.id),
  );
  for (let i = 0; i < expected.length; i++) {
    const got = actual[i]!;
    const want = expected[i]!;
    assert.deepEqual({ ...got, topics: [...got.topics] }, { ...want, topics: [...want.topics] }, `update ${want.id}`);
    for (const key of ['type', 'retry'] as const) {
      assert.equal(key in got, key in want, `"${key}" presence on ${want.id}`);
    }
  }
}

export function publishCases(factory: BrokerFactory): void {
  test('a published update reaches onUpdate exactly once', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      const recorder = new Recorder(broker);
      await broker.publish(makeUpdate('a', 'urn:t'));
      await recorder.waitForId('a');
      await settle(broker, [recorder], 'marker');
      assert.deepEqual(recorder.ids, ['a', 'marker']);
    });
  });

  test('200 publishes fired without awaiting arrive and are kept in call order', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      const recorder = new Recorder(broker);
      const expected = idRange('p', 1, 200);
      await Promise.all(expected.map((id, i) => broker.publish(makeUpdate(id, `urn:t${i % 7}`))));
      await recorder.waitForCount(200);
      assert.deepEqual(recorder.ids, expected);
      assert.deepEqual(await allIds(broker), expected);
      assert.equal(await broker.lastEventId(), 'p200');
    });
  });

  test('history never holds an update onUpdate has not delivered, once caughtUp (where the store has it) resolves', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      const recorder = new Recorder(broker);
      const published = idRange('cu', 1, 300);
      await Promise.all(published.map((id, i) => broker.publish(makeUpdate(id, `urn:contract:cu:${i % 3}`))));
      // A replay's hand-off to live relies on this: without caughtUp, in the same step.
      if (broker.caughtUp !== undefined) await broker.caughtUp();
      const { updates } = await broker.history({ filter: () => true, limit: 1000 });
      const delivered = new Set(recorder.ids);
      assert.deepEqual(updates.map((u) => u.id).filter((id) => !delivered.has(id)), [], 'in history, not delivered');
      assert.deepEqual(recorder.ids, published);
      // Nothing stored since: it must not wait for the reader's blocking read to time out
      // (5 s), which a question asked on the blocked connection would.
      if (broker.caughtUp !== undefined) {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('late'), 2500)));
        assert.equal(await Promise.race([broker.caughtUp().then(() => 'at once'), late]), 'at once');
        clearTimeout(timer);
      }
    });
  });

  test('every field round-trips: multi-line and unicode data, empty data, topics order, private, type, retry', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      const recorder = new Recorder(broker);
      const updates = trickyUpdates();
      for (const update of updates) await broker.publish(update);
      await recorder.waitForCount(updates.length);
      assertSameUpdates(recorder.updates, updates);
      const history = await broker.history({ filter: () => true, limit: 100 });
      assertSameUpdates(history.updates, updates);
    });
  });

  test('multi-topic updates keep their topics in order, the first being canonical', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      await broker.publish(makeUpdate('m1', ['urn:a', 'urn:b', 'urn:c']));
      await broker.publish(makeUpdate('m2', ['urn:c', 'urn:a']));
      const history = await broker.history({ filter: (u) => u.topics.includes('urn:c'), limit: 10 });
      assert.deepEqual(
        history.updates.map((u) => [...u.topics]),
        [
          ['urn:a', 'urn:b', 'urn:c'],
          ['urn:c', 'urn:a'],
        ],
      );
    });
  });

  test('an id already in the log is refused with duplicate_id and not delivered', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      const recorder = new Recorder(broker);
      await broker.publish(makeUpdate('dup', 'urn:t', { data: 'first' }));
      const second = broker.publish(makeUpdate('dup', 'urn:other', { data: 'second' }));
      await assert.rejects(second, (e: unknown) => isHeraldError(e) && e.code === 'duplicate_id');
      // Twice within one batch as well: the first wins, the second is refused.
      const results = await Promise.allSettled([
        broker.publish(makeUpdate('twin', 'urn:t', { data: 'one' })),
        broker.publish(makeUpdate('twin', 'urn:t', { data: 'two' })),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected'],
      );
      await settle(broker, [recorder], 'marker');
      assert.deepEqual(recorder.ids, ['dup', 'twin', 'marker']);
      const history = await broker.history({ filter: () => true, limit: 10 });
      assert.deepEqual(
        history.updates.map((u) => u.data),
        ['first', 'one', 'data of marker'],
      );
    });
  });

  test('a listener that publishes does not reorder deliveries for the other listeners', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      const first = new Recorder(broker);
      // The hub does this: a delivery can make it publish (e.g. a subscriber dropped).
      const follow = new Map([
        ['a', 'a-follow'],
        ['a-follow', 'a-follow-follow'],
      ]);
      const publishing: Promise<void>[] = [];
      broker.onUpdate((u) => {
        const next = follow.get(u.id);
        if (next !== undefined) publishing.push(broker.publish(makeUpdate(next, 'urn:t')));
      });
      const last = new Recorder(broker);
      await Promise.all([broker.publish(makeUpdate('a', 'urn:t')), broker.publish(makeUpdate('b', 'urn:t'))]);
      await last.waitForId('a-follow-follow');
      await Promise.all(publishing);
      await settle(broker, [first, last], 'marker');
      const order = await allIds(broker);
      assert.deepEqual([...order].sort(), ['a', 'a-follow', 'a-follow-follow', 'b', 'marker']);
      // Where the follow-ups land relative to b is up to the broker; their own order is not.
      assert.deepEqual(order.filter((id) => id.startsWith('a')), ['a', 'a-follow', 'a-follow-follow']);
      assert.ok(order.indexOf('a') < order.indexOf('b'));
      assert.deepEqual(first.ids, order, 'the listener registered before the publisher');
      assert.deepEqual(last.ids, order, 'the listener registered after the publisher');
    });
  });

  test('unsubscribing stops delivery to that listener only', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      const stays = new Recorder(broker);
      const leaves = new Recorder(broker);
      await broker.publish(makeUpdate('before', 'urn:t'));
      await leaves.waitForId('before');
      leaves.stop();
      leaves.stop(); // twice is harmless
      await broker.publish(makeUpdate('after', 'urn:t'));
      await settle(broker, [stays], 'marker');
      assert.deepEqual(stays.ids, ['before', 'after', 'marker']);
      assert.deepEqual(leaves.ids, ['before']);
    });
  });
}
