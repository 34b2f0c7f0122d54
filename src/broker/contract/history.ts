// Contract cases for reading the kept log: the afterId/beforeId bounds (both
// exclusive), unknown bounds, the limit keeping the NEWEST matches, the filter, and
// lastEventId.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrokerFactory } from './kit.js';
import { allIds, ids, makeUpdate, withBroker } from './kit.js';
import type { Broker, HistoryQuery } from '../types.js';

const all = (): boolean => true;

/** u1..u6: u2 on another topic, u4 private. */
async function publishSix(broker: Broker): Promise<void> {
  await broker.publish(makeUpdate('u1', 'urn:a'));
  await broker.publish(makeUpdate('u2', 'urn:b'));
  await broker.publish(makeUpdate('u3', ['urn:a', 'urn:b']));
  await broker.publish(makeUpdate('u4', 'urn:a', { private: true }));
  await broker.publish(makeUpdate('u5', ['urn:c', 'urn:a']));
  await broker.publish(makeUpdate('u6', 'urn:a'));
}

async function query(broker: Broker, q: Partial<HistoryQuery>): Promise<[string[], boolean, boolean]> {
  const result = await broker.history({ filter: all, limit: 100, ...q });
  return [ids(result.updates), result.found, result.truncated];
}

export function historyCases(factory: BrokerFactory): void {
  test('history: afterId is exclusive; null or absent means from the earliest kept', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      await publishSix(broker);
      const everything = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
      assert.deepEqual(await query(broker, {}), [everything, true, false]);
      assert.deepEqual(await query(broker, { afterId: null }), [everything, true, false]);
      assert.deepEqual(await query(broker, { afterId: 'u1' }), [['u2', 'u3', 'u4', 'u5', 'u6'], true, false]);
      assert.deepEqual(await query(broker, { afterId: 'u4' }), [['u5', 'u6'], true, false]);
      assert.deepEqual(await query(broker, { afterId: 'u6' }), [[], true, false]);
    });
  });

  test('history: an unknown afterId or beforeId gives found=false and no updates', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      assert.deepEqual(await query(broker, { afterId: 'nope' }), [[], false, false]);
      await publishSix(broker);
      assert.deepEqual(await query(broker, { afterId: 'nope' }), [[], false, false]);
      assert.deepEqual(await query(broker, { afterId: 'U1' }), [[], false, false]);
      assert.deepEqual(await query(broker, { beforeId: 'nope' }), [[], false, false]);
      assert.deepEqual(await query(broker, { afterId: 'u1', beforeId: 'nope' }), [[], false, false]);
    });
  });

  test('history: beforeId is exclusive and combines with afterId', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      await publishSix(broker);
      assert.deepEqual(await query(broker, { beforeId: 'u4' }), [['u1', 'u2', 'u3'], true, false]);
      assert.deepEqual(await query(broker, { beforeId: 'u1' }), [[], true, false]);
      assert.deepEqual(await query(broker, { afterId: 'u2', beforeId: 'u6' }), [['u3', 'u4', 'u5'], true, false]);
      assert.deepEqual(await query(broker, { afterId: 'u3', beforeId: 'u4' }), [[], true, false]);
      assert.deepEqual(await query(broker, { afterId: 'u5', beforeId: 'u2' }), [[], true, false]);
    });
  });

  test('history: limit keeps the NEWEST matches, oldest first, and says it truncated', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      await publishSix(broker);
      assert.deepEqual(await query(broker, { limit: 2 }), [['u5', 'u6'], true, true]);
      assert.deepEqual(await query(broker, { limit: 5 }), [['u2', 'u3', 'u4', 'u5', 'u6'], true, true]);
      assert.deepEqual(await query(broker, { limit: 6 }), [['u1', 'u2', 'u3', 'u4', 'u5', 'u6'], true, false]);
      assert.deepEqual(await query(broker, { afterId: 'u1', limit: 5 }), [['u2', 'u3', 'u4', 'u5', 'u6'], true, false]);
      assert.deepEqual(await query(broker, { afterId: 'u1', beforeId: 'u6', limit: 2 }), [['u4', 'u5'], true, true]);
    });
  });

  test('history: the filter drops private and other-topic updates, and limit counts only matches', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      await publishSix(broker);
      const publicOnA = (u: { topics: readonly string[]; private: boolean }): boolean =>
        !u.private && u.topics.includes('urn:a');
      assert.deepEqual(await query(broker, { filter: publicOnA }), [['u1', 'u3', 'u5', 'u6'], true, false]);
      assert.deepEqual(await query(broker, { filter: publicOnA, limit: 3 }), [['u3', 'u5', 'u6'], true, true]);
      assert.deepEqual(await query(broker, { filter: publicOnA, limit: 4 }), [['u1', 'u3', 'u5', 'u6'], true, false]);
      assert.deepEqual(await query(broker, { filter: publicOnA, afterId: 'u2' }), [['u3', 'u5', 'u6'], true, false]);
      // The filter sees whole updates: an alternate topic matches as well as the canonical one.
      const onB = (u: { topics: readonly string[] }): boolean => u.topics.includes('urn:b');
      assert.deepEqual(await query(broker, { filter: onB }), [['u2', 'u3'], true, false]);
      assert.deepEqual(await query(broker, { filter: () => false }), [[], true, false]);
    });
  });

  test('history pages: oldestFirst keeps the OLDEST matches; maxScan and maxBytes stop early and say where', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      await publishSix(broker);
      const onB = (u: { topics: readonly string[] }): boolean => u.topics.includes('urn:b');
      const page = async (q: Partial<HistoryQuery>): Promise<[string[], boolean, string | undefined]> => {
        const result = await broker.history({ filter: all, limit: 100, ...q });
        return [ids(result.updates), result.truncated, result.next];
      };
      assert.deepEqual(await page({ oldestFirst: true, limit: 2 }), [['u1', 'u2'], true, undefined]);
      assert.deepEqual(await page({ oldestFirst: true, afterId: 'u4', limit: 1 }), [['u5'], true, undefined]);
      assert.deepEqual(await page({ oldestFirst: true, filter: onB, limit: 1 }), [['u2'], true, undefined]);
      assert.deepEqual(await page({ oldestFirst: true, maxScan: 2 }), [['u1', 'u2'], false, 'u2']);
      assert.deepEqual(await page({ maxScan: 2 }), [['u5', 'u6'], false, 'u5']);
      assert.deepEqual(await page({ oldestFirst: true, filter: onB, maxScan: 3 }), [['u2', 'u3'], false, 'u3']);
      // Each data is 10 characters: a page stays within maxBytes, but one larger update comes alone.
      assert.deepEqual(await page({ oldestFirst: true, maxBytes: 25 }), [['u1', 'u2'], false, 'u2']);
      assert.deepEqual(await page({ oldestFirst: true, maxBytes: 20 }), [['u1', 'u2'], false, 'u2']);
      assert.deepEqual(await page({ oldestFirst: true, afterId: 'u2', maxBytes: 1 }), [['u3'], false, 'u3']);
      assert.deepEqual(await page({ maxBytes: 1 }), [['u6'], false, 'u6']);
      // Resuming from `next` covers the range exactly once, both ways.
      const forward: string[] = [];
      let after: string | undefined;
      for (let i = 0; i < 10; i++) {
        const result = await broker.history({ filter: all, limit: 100, oldestFirst: true, maxScan: 2, afterId: after ?? null });
        forward.push(...ids(result.updates));
        if (result.next === undefined) break;
        after = result.next;
      }
      assert.deepEqual(forward, ['u1', 'u2', 'u3', 'u4', 'u5', 'u6']);
      const backward: string[] = [];
      let before: string | undefined;
      for (let i = 0; i < 10; i++) {
        const result = await broker.history({ filter: onB, limit: 100, maxScan: 2, ...(before === undefined ? {} : { beforeId: before }) });
        backward.unshift(...ids(result.updates));
        if (result.next === undefined) break;
        before = result.next;
      }
      assert.deepEqual(backward, ['u2', 'u3']);
    });
  });

  test('history: the topics hint (exact topics the filter needs) changes no answer, paging and trimming included', async () => {
    const retention = { maxPerTopic: 4, maxAgeSeconds: 0, maxTotal: 12 };
    await withBroker(factory, { retention }, async ({ broker }) => {
      await publishSix(broker);
      for (let i = 1; i <= 14; i++) await broker.publish(makeUpdate(`h${i}`, i % 3 === 0 ? ['urn:c', 'urn:a'] : i % 2 === 0 ? 'urn:a' : 'urn:rare'));
      const cases: Array<[readonly string[], (u: { topics: readonly string[] }) => boolean]> = [
        [['urn:a'], (u) => u.topics.includes('urn:a')],
        [['urn:b', 'urn:rare'], (u) => u.topics.includes('urn:b') || u.topics.includes('urn:rare')],
        [['urn:c', 'urn:a', 'urn:c'], (u) => u.topics.includes('urn:c') || u.topics.includes('urn:a')],
        [['urn:none'], (u) => u.topics.includes('urn:none')],
        [[], () => false],
      ];
      const kept = await allIds(broker);
      for (const [topics, filter] of cases) {
        const bounds: Array<Partial<HistoryQuery>> = [
          {}, { limit: 2 }, { oldestFirst: true, limit: 3 },
          { afterId: kept[2] }, { beforeId: kept.at(-2) }, { afterId: kept[1], beforeId: kept.at(-1), oldestFirst: true },
          { afterId: 'u1' },
        ];
        for (const q of bounds) {
          const plain = await broker.history({ filter, limit: 100, ...q });
          const hinted = await broker.history({ filter, topics, limit: 100, ...q });
          assert.deepEqual(
            { ...hinted, updates: ids(hinted.updates) },
            { ...plain, updates: ids(plain.updates) },
            `topics ${topics.join(',')} with ${JSON.stringify(q)}`,
          );
        }
        // Slices stop at different places (a store may examine only the topics' updates), but cover the same.
        const expected = ids((await broker.history({ filter, limit: 100 })).updates);
        for (const slice of [{ oldestFirst: true, maxScan: 1 }, { oldestFirst: true, maxBytes: 1 }, { maxScan: 2 }] as const) {
          const got: string[] = [];
          let cursor: string | undefined;
          for (let i = 0; i < 40; i++) {
            const bound = cursor === undefined ? {} : slice.oldestFirst === true ? { afterId: cursor } : { beforeId: cursor };
            const result = await broker.history({ filter, topics, limit: 100, ...slice, ...bound });
            assert.equal(result.found, true);
            if (slice.oldestFirst === true) got.push(...ids(result.updates));
            else got.unshift(...ids(result.updates));
            if (result.next === undefined) break;
            cursor = result.next;
          }
          assert.deepEqual(got, expected, `topics ${topics.join(',')} in slices of ${JSON.stringify(slice)}`);
        }
      }
    });
  });

  test('lastEventId is null on an empty log, then the newest id', async () => {
    await withBroker(factory, {}, async ({ broker }) => {
      assert.equal(await broker.lastEventId(), null);
      assert.deepEqual(await query(broker, {}), [[], true, false]);
      await broker.publish(makeUpdate('first', 'urn:a'));
      assert.equal(await broker.lastEventId(), 'first');
      await publishSix(broker);
      assert.equal(await broker.lastEventId(), 'u6');
    });
  });
}
