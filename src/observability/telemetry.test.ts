// Telemetry over a real hub and memory broker, with fake sinks and a hand-driven
// clock: every metric is checked against the exact traffic that produced it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { MemoryBroker } from '../broker/local/memory.js';
import type { Update } from '../broker/types.js';
import { createTestHub, TEST_HUB_URL } from '../../test/support/hub.js';
import { MatcherSet } from '../hub/topics/selectors.js';
import { compileMatcher } from '../hub/topics/selectors.js';
import type { SubscriberSink } from '../hub/fanout/subscriber.js';
import { Telemetry } from './telemetry.js';

const HUB = TEST_HUB_URL;

class FakeSink implements SubscriberSink {
  readonly chunks: Buffer[] = [];
  pending = 0;
  closed = false;
  write(chunk: Buffer): void {
    this.chunks.push(chunk);
  }
  pendingBytes(): number {
    return this.pending;
  }
  close(): void {
    this.closed = true;
  }
  get bytes(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0);
  }
}

async function setup() {
  let clock = 1000;
  const telemetry = new Telemetry({ logger: pino({ level: 'silent' }), now: () => clock, processMetrics: false });
  const inner = new MemoryBroker({ retention: { maxPerTopic: 0, maxAgeSeconds: 0, maxTotal: 1000 } });
  const broker = telemetry.wrap(inner);
  const hub = await createTestHub(broker, { subscriberBuffer: 1000 });
  telemetry.attach(hub);
  const subscribe = async (topics: string[], lastEventId?: string) => {
    const sink = new FakeSink();
    const start = await hub.subscribe({
      matchers: new MatcherSet(topics.map((t) => compileMatcher(t, 'exact', HUB))),
      claims: undefined,
      lastEventId,
      sink,
    });
    await start.begin();
    return { sink, subscriber: start.subscriber };
  };
  /** A sample's value; for a histogram, `part` picks _count, _sum or _bucket. */
  const value = async (name: string, labels: Record<string, string> = {}, part?: 'count' | 'sum' | 'bucket'): Promise<number> => {
    const metric = (await telemetry.registry.getMetricsAsJSON()).find((m) => m.name === name);
    assert.ok(metric, `metric ${name} exists`);
    const entry = metric.values.find(
      (v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l) && (part === undefined || (v as { metricName?: string }).metricName === `${name}_${part}`),
    );
    assert.ok(entry, `${name} ${JSON.stringify(labels)} has a value`);
    return entry.value;
  };
  const flushed = () => new Promise((resolve) => setImmediate(resolve));
  return { telemetry, inner, broker, hub, subscribe, value, flushed, setClock: (t: number) => (clock = t) };
}

const update = (id: string, topic: string, data = 'x'): Update => ({ id, topics: [topic], data, private: false });

test('counts connections, subscriptions, deliveries and bytes from the hub\'s own counters', async () => {
  const { hub, subscribe, value, flushed } = await setup();
  const a = await subscribe(['urn:a']);
  const b = await subscribe(['urn:a', 'urn:b']);
  assert.equal(await value('herald_connections'), 2);
  assert.equal(await value('herald_subscriptions'), 3);
  for (const id of ['1', '2', '3']) await hub.publishTrusted(update(id, 'urn:a'));
  await hub.publishTrusted(update('4', 'urn:b'));
  await flushed();
  assert.equal(await value('herald_updates_stored_total'), 4);
  assert.equal(await value('herald_updates_dispatched_total'), 4);
  assert.equal(await value('herald_deliveries_total'), 3 + 4);
  assert.equal(await value('herald_bytes_out_total'), a.sink.bytes + b.sink.bytes);
  assert.ok(a.sink.bytes > 0);
  hub.disconnect(a.subscriber);
  assert.equal(await value('herald_connections'), 1);
  assert.equal(await value('herald_subscriptions'), 2);
  await hub.close();
});

test('observes publish-to-write latency once per update per flush, whatever the fan-out', async () => {
  const { hub, subscribe, value, flushed, setClock, telemetry } = await setup();
  for (let i = 0; i < 5; i++) await subscribe(['urn:lat']);
  setClock(1000);
  for (const id of ['1', '2', '3']) await hub.publishTrusted(update(id, 'urn:lat'));
  setClock(1007);
  await flushed();
  assert.equal(await value('herald_publish_to_write_seconds', {}, 'count'), 3);
  assert.ok(Math.abs((await value('herald_publish_to_write_seconds', {}, 'sum')) - 0.021) < 1e-9);
  assert.equal(await value('herald_publish_to_write_seconds', { le: '0.01' }, 'bucket'), 3);
  assert.equal(await value('herald_publish_to_write_seconds', { le: '0.005' }, 'bucket'), 0);
  assert.equal(telemetry.latency.pending, 0);
  const window = telemetry.latency.takeWindow();
  assert.deepEqual(window, { count: 3, p50: 7, p99: 7, max: 7 });
  assert.deepEqual(telemetry.latency.takeWindow(), { count: 0 });
  await hub.close();
});

test('counts slow consumers dropped and replays with the updates they sent', async () => {
  const { hub, subscribe, value, flushed } = await setup();
  const slow = await subscribe(['urn:s']);
  slow.sink.pending = 5000;
  await hub.publishTrusted(update('1', 'urn:s'));
  await hub.publishTrusted(update('2', 'urn:s'));
  await flushed();
  assert.equal(slow.sink.closed, true);
  assert.equal(await value('herald_slow_consumers_dropped_total'), 1);
  assert.equal(await value('herald_connections'), 0);
  await subscribe(['urn:s'], 'earliest');
  await subscribe(['urn:s'], '1');
  assert.equal(await value('herald_replays_total'), 2);
  assert.equal(await value('herald_replayed_updates_total'), 2 + 1);
  await hub.close();
});

test('counts store errors by operation, but not a refused duplicate id', async () => {
  const { hub, inner, broker, value } = await setup();
  await hub.publishTrusted(update('dup', 'urn:e'));
  await assert.rejects(hub.publishTrusted(update('dup', 'urn:e')), /already in the log/);
  assert.equal(await value('herald_store_errors_total', { operation: 'publish' }), 0);
  await inner.close();
  await assert.rejects(hub.publishTrusted(update('after-close', 'urn:e')), /closed/);
  assert.equal(await broker.isReady(), false);
  assert.equal(await value('herald_store_errors_total', { operation: 'publish' }), 1);
  assert.equal(await value('herald_store_errors_total', { operation: 'ready' }), 1);
  assert.equal(await value('herald_updates_stored_total'), 1);
  await hub.close();
});
