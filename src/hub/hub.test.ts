// The hub's public API without HTTP: a memory broker, recording sinks, and only the
// methods other layers call (drain, disconnectAll, readiness, history, onFlush, stats).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBroker } from '../broker/local/memory.js';
import type { Update } from '../broker/types.js';
import { createTestHub, TEST_HUB_URL } from '../../test/support/hub.js';
import type { Hub, HubSettings } from './hub.js';
import type { SubscriberSink } from './fanout/subscriber.js';
import { compileMatcher, MatcherSet } from './topics/selectors.js';
import { claimsFromPayload } from './auth/claims.js';

class RecordingSink implements SubscriberSink {
  text = '';
  writes = 0;
  closed = false;
  write(chunk: Buffer): void {
    this.text += chunk.toString('utf8');
    this.writes++;
  }
  pendingBytes(): number {
    return 0;
  }
  close(): void {
    this.closed = true;
  }
}

const message = (id: string, topic: string, data = id): Update => ({ id, topics: [topic], data, private: false });

async function hubWith(settings: Partial<HubSettings> = {}): Promise<{ hub: Hub; broker: MemoryBroker }> {
  const broker = new MemoryBroker({ retention: { maxPerTopic: 0, maxAgeSeconds: 0, maxTotal: 100_000 } });
  return { hub: await createTestHub(broker, settings), broker };
}

async function open(hub: Hub, topic: string, lastEventId?: string): Promise<{ sink: RecordingSink; closed: () => boolean }> {
  const sink = new RecordingSink();
  const start = await hub.subscribe({ matchers: new MatcherSet([compileMatcher(topic, 'exact', TEST_HUB_URL)]), claims: undefined, lastEventId, sink });
  await start.begin();
  return { sink, closed: () => start.subscriber.closed };
}

test('drain writes what was queued, then one retry per stream, and leaves the streams open for close()', async () => {
  const { hub } = await hubWith();
  const a = await open(hub, 'urn:a');
  const b = await open(hub, 'urn:b');
  await hub.publishTrusted(message('m1', 'urn:a'));
  const delays = [100, 200];
  assert.equal(hub.drain(() => delays.shift()!), 2);
  assert.equal(a.sink.text, 'id: m1\ndata: m1\n\nretry: 100\n\n', 'the queued update goes out before the goodbye');
  assert.equal(b.sink.text, 'retry: 200\n\n');
  assert.equal(hub.subscriberCount, 2);
  assert.equal(a.sink.closed, false);
  await hub.close();
  assert.equal(a.sink.closed && b.sink.closed, true);
});

test('disconnectAll ends every stream and says how many; stats count what is open', async () => {
  const { hub } = await hubWith();
  const streams = [await open(hub, 'urn:a'), await open(hub, 'urn:a'), await open(hub, 'urn:b')];
  assert.deepEqual([hub.stats().connections, hub.stats().subscriptions], [3, 3]);
  assert.equal(hub.disconnectAll(), 3);
  assert.deepEqual(streams.map((s) => s.sink.closed), [true, true, true]);
  assert.deepEqual([hub.stats().connections, hub.stats().subscriptions, hub.subscriberCount], [0, 0, 0]);
  assert.equal(hub.disconnectAll(), 0);
  await hub.close();
});

test('readiness says whether the store answers, and which it is', async () => {
  const { hub, broker } = await hubWith();
  assert.deepEqual(await hub.readiness(), { ready: true, store: 'memory' });
  await broker.close();
  assert.deepEqual(await hub.readiness(), { ready: false, store: 'memory' });
  await hub.close();
});

test('history reads the kept log through the filter, oldest first', async () => {
  const { hub } = await hubWith();
  for (const [id, topic] of [['1', 'urn:a'], ['2', 'urn:b'], ['3', 'urn:a']] as const) await hub.publishTrusted(message(id, topic));
  const page = await hub.history({ filter: (update) => update.topics[0] === 'urn:a', limit: 10, maxScan: 100 });
  assert.deepEqual(page.updates.map((u) => u.id), ['1', '3']);
  await hub.close();
});

test('flush listeners get every flushed update once, until they are removed', async () => {
  const { hub } = await hubWith();
  await open(hub, 'urn:a');
  const first: string[] = [];
  const second: string[] = [];
  const stopFirst = hub.onFlush((flushed) => first.push(...flushed.map((f) => f.update.id)));
  const stopSecond = hub.onFlush((flushed) => second.push(...flushed.map((f) => f.update.id)));
  const flushed = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  await hub.publishTrusted(message('1', 'urn:a'));
  await hub.publishTrusted(message('2', 'urn:a'));
  await flushed();
  stopFirst();
  await hub.publishTrusted(message('3', 'urn:a'));
  await flushed();
  stopSecond();
  await hub.publishTrusted(message('4', 'urn:a'));
  await flushed();
  assert.deepEqual(first, ['1', '2']);
  assert.deepEqual(second, ['1', '2', '3']);
  assert.equal(hub.stats().updates, 4);
  await hub.close();
});

test('a subscriber cut while its replay is located (it held too much) leaves no presence record behind', async () => {
  const { hub } = await hubWith({ subscriptions: true, subscriberBuffer: 1000, replayMax: 100_000 });
  // Enough history that locating the replay takes many slices, each a turn of the event loop.
  for (let i = 0; i < 3000; i++) await hub.publishTrusted(message(`h${i}`, 'urn:busy'));
  const sink = new RecordingSink();
  const starting = hub.subscribe({ matchers: new MatcherSet([compileMatcher('urn:busy', 'exact', TEST_HUB_URL)]), claims: undefined, lastEventId: 'earliest', sink });
  // Held while the replay is located, and larger than the subscriber buffer: too slow.
  await hub.publishTrusted(message('big', 'urn:busy', 'x'.repeat(2000)));
  const start = await starting;
  assert.equal(start.subscriber.closed, true, 'cut during the locate');
  assert.equal(sink.closed, true);
  const other = await open(hub, 'urn:quiet');
  assert.equal(other.closed(), false);
  // The memory store records synchronously: the cut subscriber's join would be listed by now.
  assert.deepEqual((await hub.listSubscriptions()).map((record) => record.topic), ['urn:quiet']);
  await hub.close();
});

test('only an id the hub drew skips the duplicate check: a publisher reusing it, or its own id twice, is refused', async () => {
  const { hub } = await hubWith();
  const claims = claimsFromPayload({ mercure: { publish: ['*'] } }, TEST_HUB_URL);
  const drawn = hub.publishNow({ topics: ['urn:t'], data: 'a' }, claims);
  assert.equal(typeof drawn, 'string');
  const duplicate = (e: unknown): boolean => (e as { code?: string }).code === 'duplicate_id';
  assert.throws(() => hub.publishNow({ topics: ['urn:t'], data: 'b', id: drawn as string }, claims), duplicate);
  assert.equal(hub.publishNow({ topics: ['urn:t'], data: 'c', id: 'mine' }, claims), 'mine');
  assert.throws(() => hub.publishNow({ topics: ['urn:t'], data: 'd', id: 'mine' }, claims), duplicate);
  const kept = await hub.history({ filter: () => true, limit: 10, maxScan: 100 });
  assert.deepEqual(kept.updates.map((u) => u.data), ['a', 'c']);
  await hub.close();
});

test('one turn of updates over several topics: each single-topic stream gets its topic\'s updates in order, in one write', async () => {
  const { hub } = await hubWith();
  const [a, b, c] = [await open(hub, 'urn:a'), await open(hub, 'urn:b'), await open(hub, 'urn:c')];
  const writesBefore = [a, b, c].map((s) => s.sink.writes);
  // Not awaited one by one: the memory store takes each at once, so all land in one flush.
  await Promise.all([message('1', 'urn:a'), message('2', 'urn:b'), message('3', 'urn:a'), message('4', 'urn:c'), message('5', 'urn:a')].map((u) => hub.publishTrusted(u)));
  await new Promise((resolve) => setImmediate(resolve));
  const ids = (text: string): string[] => [...text.matchAll(/^id: (.*)$/gm)].map((m) => m[1]!);
  assert.deepEqual(ids(a.sink.text), ['1', '3', '5']);
  assert.deepEqual(ids(b.sink.text), ['2']);
  assert.deepEqual(ids(c.sink.text), ['4']);
  assert.deepEqual([a, b, c].map((s, i) => s.sink.writes - writesBefore[i]!), [1, 1, 1]);
  await hub.close();
});
