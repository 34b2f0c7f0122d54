// Hostile clients against presence (issue 14, item 1): an anonymous client opening and
// closing streams of 100 topics each made the hub store two subscription events per
// topic and stream, in the message log, until every other topic's history was pushed
// out. Reproduced here on every store, scaled to run in seconds: 500 messages of a
// victim topic, then 25 times --history-max-total in subscription events. Afterwards a
// resume from the middle of the victim's history gets exactly the rest, and the store
// holds the messages plus at most --presence-history presence events.
// Also item 8's presence part: a Redis process frozen past the presence TTL.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import type { Config } from '../src/config.js';
import type { Herald } from '../src/herald.js';
import type { RedisBroker } from '../src/broker/redis/redis-broker.js';
import type { InstrumentedBroker } from '../src/observability/instrumented-broker.js';
import { hubUrl, publisherToken, publishOk, startTestHerald, subscriberToken } from './support/herald.js';
import { deleteKeys, SHARED_REDIS, uniquePrefix } from './support/redis-prefix.js';
import { rawStream, type RawStream } from './support/stream.js';

const MESSAGES = 500;
const HISTORY_MAX_TOTAL = 2000;
const PRESENCE_HISTORY = 1000;
const STREAMS = 250;
const TOPICS_PER_STREAM = 100;
const CONCURRENCY = 10;
const VICTIM = 'urn:hostile:victim';

interface StoreUnderTest {
  readonly name: string;
  readonly overrides: () => Partial<Config>;
  /** What the store holds after the attack, for the bound and the report. */
  readonly measure: (herald: Herald) => Promise<Record<string, number>>;
  readonly bound: (figures: Record<string, number>, before: Record<string, number>) => void;
}

let dir = '';
let sqlitePath = '';
const redisPrefix = uniquePrefix('hostile-presence');
const admin = new Redis(SHARED_REDIS, { lazyConnect: true, maxRetriesPerRequest: 1 });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'herald-hostile-presence-'));
  sqlitePath = join(dir, 'herald.db');
  await admin.connect();
});
after(async () => {
  admin.disconnect();
  await deleteKeys(redisPrefix);
  await rm(dir, { recursive: true, force: true });
});

async function keptCount(herald: Herald): Promise<number> {
  return (await herald.broker.history({ filter: () => true, limit: 1_000_000 })).updates.length;
}

function fileBytes(path: string): number {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) total += existsSync(path + suffix) ? statSync(path + suffix).size : 0;
  return total;
}

async function countKeys(pattern: string): Promise<number> {
  let count = 0;
  let cursor = '0';
  for (let rounds = 0; rounds < 100_000; rounds++) {
    const [next, keys] = await admin.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    count += keys.length;
    cursor = next;
    if (cursor === '0') break;
  }
  return count;
}

const stores: StoreUnderTest[] = [
  {
    name: 'memory',
    overrides: () => ({ store: 'memory' }),
    measure: async (herald) => ({ kept: await keptCount(herald) }),
    bound: (figures) => assert.equal(figures.kept, MESSAGES + 1 + PRESENCE_HISTORY),
  },
  {
    name: 'sqlite',
    overrides: () => ({ store: `sqlite:${sqlitePath}` }),
    measure: async (herald) => {
      const db = new Database(sqlitePath, { readonly: true });
      try {
        const rows = (db.prepare('SELECT count(*) AS n FROM herald_updates').get() as { n: number }).n;
        return { kept: await keptCount(herald), rows, fileBytes: fileBytes(sqlitePath) };
      } finally {
        db.close();
      }
    },
    bound: (figures, before) => {
      assert.equal(figures.kept, MESSAGES + 1 + PRESENCE_HISTORY);
      assert.equal(figures.rows, MESSAGES + 1, 'presence events never reach the file');
      // Only the marker message was written during and after the churn.
      assert.ok(figures.fileBytes! - before.fileBytes! <= 64 * 1024, `the file grew by ${figures.fileBytes! - before.fileBytes!} bytes`);
    },
  },
  {
    name: 'redis',
    overrides: () => ({ store: SHARED_REDIS, redisPrefix }),
    measure: async (herald) => {
      const stream = `${redisPrefix}{log}:stream`;
      return {
        kept: await keptCount(herald),
        idKeys: await countKeys(`${redisPrefix}{log}:id:*`),
        keys: await countKeys(`${redisPrefix}*`),
        streamEntries: await admin.xlen(stream),
        streamBytes: Number(await admin.memory('USAGE', stream, 'SAMPLES', 0)),
        counted: Number(await admin.hget(`${redisPrefix}{log}:meta`, 'count')),
      };
    },
    bound: (figures) => {
      assert.equal(figures.kept, MESSAGES + 1 + PRESENCE_HISTORY);
      assert.equal(figures.counted, MESSAGES + 1, 'meta.count counts messages only');
      assert.equal(figures.idKeys, MESSAGES + 1 + PRESENCE_HISTORY);
      // Past the cap, presence entries wait out the grace period in the stream: 10 000 at most.
      assert.ok(figures.streamEntries! <= MESSAGES + 1 + PRESENCE_HISTORY + 10_000, `${figures.streamEntries} stream entries`);
    },
  },
];

/** Opens and closes `STREAMS` anonymous streams of 100 fresh topics each, CONCURRENCY at a time. */
async function churn(herald: Herald): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < STREAMS) {
      const n = next++;
      const topics: Array<[string, string]> = [];
      for (let k = 0; k < TOPICS_PER_STREAM; k++) topics.push(['topic', `urn:hostile:churn:${n}:${k}`]);
      const stream = await rawStream(hubUrl(herald.url, topics));
      assert.equal(stream.status, 200);
      stream.close();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

function withDeadline(promise: Promise<void>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function idsIn(text: string): string[] {
  return [...text.matchAll(/^id: (.*)$/gm)].map((m) => m[1]!);
}

for (const store of stores) {
  describe(`hostile presence: ${store.name}`, () => {
    let herald: Herald;
    before(async () => {
      herald = await startTestHerald({
        ...store.overrides(),
        chat: false,
        historyMaxTotal: HISTORY_MAX_TOTAL,
        historyMaxPerTopic: 0,
        presenceHistory: PRESENCE_HISTORY,
      });
    });
    after(() => herald.close());

    test(`${STREAMS * TOPICS_PER_STREAM * 2} subscription events from an anonymous client leave another topic's 500 messages exactly; the store stays bounded`, async (t: TestContext) => {
      const token = await publisherToken();
      const ids = Array.from({ length: MESSAGES }, (_, i) => `v${i + 1}`);
      for (const id of ids) await publishOk(herald.url, { topic: VICTIM, id, data: `message ${id}` }, token);
      const before = await store.measure(herald);

      // Counted where the hub receives them (an EventSource watcher, once closed, makes
      // Node's fetch open a spare connection that holds close() up for 70 s).
      const events = STREAMS * TOPICS_PER_STREAM * 2;
      const seen = { joins: 0, leaves: 0 };
      let allSeen: () => void = () => {};
      const done = new Promise<void>((resolve) => (allSeen = resolve));
      const stop = herald.broker.onUpdate((update) => {
        if (!update.topics[0]!.startsWith('/.well-known/mercure/subscriptions/exact/urn%3Ahostile%3Achurn%3A')) return;
        if ((JSON.parse(update.data) as { active: boolean }).active) seen.joins++;
        else seen.leaves++;
        if (seen.joins + seen.leaves === events) allSeen();
      });
      let resumer: RawStream | undefined;
      let churnMs = 0;
      try {
        const started = Date.now();
        await churn(herald);
        await withDeadline(done, 60_000, `${events} subscription events`);
        churnMs = Date.now() - started;
        assert.deepEqual(seen, { joins: events / 2, leaves: events / 2 }, 'one join and one leave per topic and stream');

        // Exact resume from the middle of the victim's history: 251..500, then live.
        resumer = await rawStream(hubUrl(herald.url, [['topic', VICTIM]]), { 'Last-Event-ID': 'v250' });
        assert.notEqual(resumer.headers['last-event-id'], 'earliest', 'v250 is still known');
        await resumer.waitForText('id: v500\n');
        // In process: fetch's pool, idle since the churn, would leave a spare connection open that delays close().
        await herald.hub.publishTrusted({ id: 'v501', topics: [VICTIM], data: 'after the churn', private: false });
        await resumer.waitForText('id: v501\n');
        assert.deepEqual(idsIn(resumer.text()), [...ids.slice(250), 'v501']);
      } finally {
        stop();
        resumer?.close();
      }
      const history = await herald.broker.history({ filter: (u) => u.topics[0] === VICTIM, limit: 10_000 });
      assert.deepEqual(history.updates.map((u) => u.id), [...ids, 'v501']);

      const figures = await store.measure(herald);
      t.diagnostic(`${store.name}: ${events} subscription events in ${churnMs} ms; before ${JSON.stringify(before)}; after ${JSON.stringify(figures)}`);
      store.bound(figures, before);
    });
  });
}

// Item 8 (presence part): a process frozen past the presence TTL was swept by a
// survivor, which published the leaves of its subscriptions. On waking, the records
// came back without a join, and a client that left during the freeze got a second leave.
describe('hostile presence: a process frozen past the presence TTL (redis)', () => {
  const prefix = uniquePrefix('hostile-freeze');
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({ store: SHARED_REDIS, redisPrefix: prefix, chat: false });
  });
  after(async () => {
    await herald.close();
    await deleteKeys(prefix);
  });

  test('on waking it announces a join for each subscription still there, and no second leave for one that left', async () => {
    const broker = (herald.broker as InstrumentedBroker).inner as RedisBroker;
    const watch = '/.well-known/mercure/subscriptions/{type}/{match}/{subscriber}';
    const watcher = await rawStream(hubUrl(herald.url, [['topic', watch]]), { Authorization: `Bearer ${await subscriberToken([watch])}` });
    const streams: RawStream[] = [watcher];
    try {
      const events = (): Array<{ who: string; active: boolean }> =>
        subscriptionEvents(watcher.text()).filter((e) => e.match === 'urn:room').map((e) => ({ who: e.subscriber, active: e.active }));
      const alice = await rawStream(hubUrl(herald.url, [['topic', 'urn:room']]));
      streams.push(alice);
      await watcher.waitForText('"active":true');
      const bob = await rawStream(hubUrl(herald.url, [['topic', 'urn:room']]));
      streams.push(bob);
      await waitFor(() => events().length === 2, 'both joins');
      const [aliceId, bobId] = events().map((e) => e.who);

      // What a survivor's sweep does to a node it believes dead (it announces their leaves).
      await admin.zrem(`${prefix}{presence}:nodes`, broker.nodeId);
      await admin.del(`${prefix}{presence:${broker.nodeId}}:node`, `${prefix}{presence:${broker.nodeId}}:alive`);
      alice.close();
      await waitFor(() => herald.hub.subscriberCount === 2, 'the hub to see alice leave');
      // The frozen process wakes up: its next heartbeat finds it was swept.
      await broker.heartbeatNow();
      await waitFor(() => events().length === 3, 'bob announced again');
      bob.close();
      await waitFor(() => events().length === 4, "bob's leave");
      assert.deepEqual(events(), [
        { who: aliceId, active: true },
        { who: bobId, active: true },
        { who: bobId, active: true },
        { who: bobId, active: false },
      ]);
      assert.deepEqual(await herald.broker.listSubscriptions().then((list) => list.filter((r) => r.topic === 'urn:room')), []);
    } finally {
      for (const stream of streams) stream.close();
    }
  });
});

/** The subscription events (the draft's shape, the default) in an event stream's text. */
function subscriptionEvents(text: string): Array<{ match: string; subscriber: string; active: boolean }> {
  return [...text.matchAll(/^event: mercure\n(?:id: .*\n)?data: (\{.*"type":"subscription".*\})$/gm)].map((m) => JSON.parse(m[1]!) as { match: string; subscriber: string; active: boolean });
}

/** Polls a condition the hub offers no event for, every 10 ms, for at most 15 s (a loaded CI box is slow). */
async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited 15 s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
