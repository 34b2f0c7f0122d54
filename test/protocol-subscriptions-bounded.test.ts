// What one subscriptions API request may cost: a collection examines at most
// --subscriptions-scan records (the draft lets a hub truncate a collection as long as the
// document stays valid; Herald says so in Herald-Subscriptions-Truncated), and a single
// subscription is a lookup by its id, found wherever it sits among the records.
// Real HTTP; the records are written through the hub's own store.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SubscriptionRecord } from '../src/broker/types.js';
import type { Config } from '../src/config.js';
import type { Herald } from '../src/herald.js';
import { startTestHerald, subscriberToken } from './support/herald.js';

const SUBS = '/.well-known/mercure/subscriptions';
const RECORDS = 250;
const SCAN = 100;
const TOPICS = ['urn:bounded:0', 'urn:bounded:1'];

const draftRecord = (i: number): SubscriptionRecord => {
  const topic = TOPICS[i % 2]!;
  const subscriber = `urn:uuid:bounded-${i}`;
  return { id: `${SUBS}/exact/${encodeURIComponent(topic)}/${encodeURIComponent(subscriber)}`, topic, matchType: 'exact', subscriber, payload: { i } };
};
const legacyRecord = (i: number): SubscriptionRecord => {
  const topic = TOPICS[i % 2]!;
  const subscriber = `urn:uuid:bounded-${i}`;
  return { id: `${SUBS}/${encodeURIComponent(topic)}/${encodeURIComponent(subscriber)}`, topic, matchType: 'exact', subscriber };
};

async function withRecords(config: Partial<Config>, make: (i: number) => SubscriptionRecord, run: (herald: Herald, token: string, records: SubscriptionRecord[]) => Promise<void>): Promise<void> {
  const herald = await startTestHerald({ chat: false, ...config });
  try {
    const records = Array.from({ length: RECORDS }, (_, i) => make(i));
    await herald.broker.addSubscriptions(records);
    await run(herald, await subscriberToken(['*', `${SUBS}/{+rest}`]), records);
  } finally {
    await herald.close();
  }
}

async function getJson(herald: Herald, path: string, token: string): Promise<{ status: number; truncated: string | null; type: string | null; body: Record<string, unknown> }> {
  const response = await fetch(`${herald.url}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: response.status, truncated: response.headers.get('herald-subscriptions-truncated'), type: response.headers.get('content-type'), body: (await response.json()) as Record<string, unknown> };
}

describe('subscriptions API bounds', () => {
  test(`draft: a collection over ${RECORDS} records examines ${SCAN} (--subscriptions-scan), stays a valid document and says it was cut`, async () => {
    await withRecords({ subscriptionsScan: SCAN }, draftRecord, async (herald, token) => {
      const all = await getJson(herald, SUBS, token);
      assert.equal(all.status, 200);
      assert.match(all.type ?? '', /^application\/json/);
      assert.equal(all.truncated, '1');
      assert.equal(all.body.id, SUBS);
      assert.equal(all.body.type, 'subscriptions');
      const docs = all.body.subscriptions as Array<Record<string, unknown>>;
      assert.equal(docs.length, SCAN, 'the memory store examines exactly --subscriptions-scan records');
      for (const doc of docs) assert.deepEqual([doc.type, doc.active, typeof doc.id], ['subscription', true, 'string']);
      const perMatcher = await getJson(herald, `${SUBS}/exact/${encodeURIComponent(TOPICS[1]!)}`, token);
      assert.equal(perMatcher.status, 200);
      assert.equal(perMatcher.truncated, '1');
      const mine = perMatcher.body.subscriptions as Array<Record<string, unknown>>;
      assert.ok(mine.length > 0 && mine.length <= SCAN / 2 + 1, `${mine.length} of the first ${SCAN} examined`);
      assert.ok(mine.every((doc) => doc.match === TOPICS[1]));
    });
  });

  test('draft: a single subscription is found by its id even past the scan bound; an unknown one is 404', async () => {
    await withRecords({ subscriptionsScan: SCAN }, draftRecord, async (herald, token, records) => {
      const last = records.at(-1)!;
      const found = await getJson(herald, last.id, token);
      assert.equal(found.status, 200, JSON.stringify(found.body));
      assert.equal(found.truncated, null);
      assert.deepEqual(found.body, { id: last.id, type: 'subscription', match_type: 'exact', match: last.topic, subscriber: last.subscriber, active: true, payload: { i: RECORDS - 1 } });
      const missing = await getJson(herald, `${SUBS}/exact/${encodeURIComponent(TOPICS[0]!)}/${encodeURIComponent('urn:uuid:nobody')}`, token);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error, 'not_found');
    });
  });

  test('draft: under the bound the collection is whole and not flagged', async () => {
    await withRecords({}, draftRecord, async (herald, token) => {
      const all = await getJson(herald, SUBS, token);
      assert.equal(all.status, 200);
      assert.equal(all.truncated, null);
      assert.equal((all.body.subscriptions as unknown[]).length, RECORDS);
    });
  });

  test('0.x: the same bound on a collection, and a lookup for a single subscription', async () => {
    await withRecords({ subscriptionsScan: SCAN, subscriptionsFormat: '0.x' }, legacyRecord, async (herald, token, records) => {
      const all = await getJson(herald, SUBS, token);
      assert.equal(all.status, 200);
      assert.equal(all.truncated, '1');
      assert.equal((all.body.subscriptions as unknown[]).length, SCAN);
      const last = records.at(-1)!;
      const found = await getJson(herald, last.id, token);
      assert.equal(found.status, 200, JSON.stringify(found.body));
      assert.equal(found.body.id, last.id);
      assert.equal(found.body.subscriber, last.subscriber);
    });
  });
});
