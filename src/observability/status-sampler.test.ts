// The status sampler over a real hub and memory broker with a hand-driven clock:
// rates are differences over the elapsed time, latency quantiles come from what
// was flushed in between, and only the newest samples are kept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { MemoryBroker } from '../broker/local/memory.js';
import { createTestHub, TEST_HUB_URL } from '../../test/support/hub.js';
import { MatcherSet } from '../hub/topics/selectors.js';
import { compileMatcher } from '../hub/topics/selectors.js';
import { StatusSampler, type StatusSample } from './status-sampler.js';
import { Telemetry } from './telemetry.js';

const HUB = TEST_HUB_URL;

test('rates over the elapsed time, latency of the window, bounded history, listeners', async () => {
  let clock = 0;
  const now = () => clock;
  const telemetry = new Telemetry({ logger: pino({ level: 'silent' }), now, processMetrics: false });
  const broker = telemetry.wrap(new MemoryBroker({ retention: { maxPerTopic: 0, maxAgeSeconds: 0, maxTotal: 1000 } }));
  const hub = await createTestHub(broker);
  telemetry.attach(hub);
  const sampler = new StatusSampler({ hub, latency: telemetry.latency, keep: 3, now });
  const seen: StatusSample[] = [];
  sampler.onSample((sample) => seen.push(sample));
  let written = 0;
  for (let i = 0; i < 2; i++) {
    const start = await hub.subscribe({
      matchers: new MatcherSet([compileMatcher('urn:s', 'exact', HUB)]),
      claims: undefined,
      lastEventId: undefined,
      sink: { write: (chunk) => void (written += chunk.length), pendingBytes: () => 0, close: () => undefined },
    });
    await start.begin();
  }
  clock = 1000;
  for (let i = 0; i < 10; i++) await hub.publishTrusted({ id: `u${i}`, topics: ['urn:s'], data: 'x', private: false });
  clock = 1004;
  await new Promise((resolve) => setImmediate(resolve));
  clock = 2000;
  const first = sampler.sample();
  assert.equal(first.t, 2000);
  assert.equal(first.connections, 2);
  assert.equal(first.updatesPerSecond, 5);
  assert.equal(first.deliveriesPerSecond, 10);
  assert.equal(first.bytesOutPerSecond, written / 2);
  assert.equal(first.latencyP50Ms, 4);
  assert.equal(first.latencyP99Ms, 4);
  assert.equal(first.updatesTotal, 10);
  assert.equal(first.uptimeSeconds, 2);
  assert.ok(first.rssBytes > 10_000_000);

  clock = 3000;
  const idle = sampler.sample();
  assert.equal(idle.updatesPerSecond, 0);
  assert.equal(idle.latencyP50Ms, null, 'no update flushed: no latency, rather than a stale one');
  clock = 4000;
  sampler.sample();
  clock = 5000;
  sampler.sample();
  assert.deepEqual(sampler.recent().map((s) => s.t), [3000, 4000, 5000]);
  assert.deepEqual(seen.map((s) => s.t), [2000, 3000, 4000, 5000]);
  sampler.stop();
  await hub.close();
});
