// /metrics, /healthz and /readyz over real HTTP: the exposition text carries the
// counts of the traffic the test made, publish outcomes are told apart, and a store
// that goes away shows in /readyz and in the store error counter.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { hubUrl, publish, publisherToken, startTestHerald } from './support/herald.js';
import { collect } from './support/stream.js';

const dir = mkdtempSync(join(tmpdir(), 'herald-metrics-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The value of one sample line, e.g. `herald_publish_requests_total{outcome="ok"}`. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `${series} is in the exposition`);
  return Number(line.slice(series.length + 1));
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return response.text();
}

test('/metrics counts streams, publishes by outcome, deliveries, bytes and latency', async () => {
  const herald = await startTestHerald();
  const stream = collect(hubUrl(herald.url, [['topic', 'urn:metrics']]));
  try {
    await stream.opened;
    const token = await publisherToken();
    assert.equal((await publish(herald.url, { topic: 'urn:metrics', data: 'one' }, token)).status, 200);
    assert.equal((await publish(herald.url, { topic: 'urn:metrics', data: 'two' }, token)).status, 200);
    assert.equal((await publish(herald.url, { topic: 'urn:metrics', data: 'no token' })).status, 401);
    assert.equal((await publish(herald.url, { data: 'no topic' }, token)).status, 400);
    await stream.waitFor(2);
    const text = await scrape(herald.url);
    assert.equal(sample(text, 'herald_connections'), 1);
    assert.equal(sample(text, 'herald_subscriptions'), 1);
    assert.equal(sample(text, 'herald_publish_requests_total{outcome="ok"}'), 2);
    assert.equal(sample(text, 'herald_publish_requests_total{outcome="refused"}'), 2);
    assert.equal(sample(text, 'herald_publish_requests_total{outcome="failed"}'), 0);
    // Presence events are stored and dispatched too, but only our two reach the stream.
    assert.ok(sample(text, 'herald_updates_stored_total') >= 2);
    assert.equal(sample(text, 'herald_deliveries_total'), 2);
    assert.ok(sample(text, 'herald_bytes_out_total') >= 'data: one\n\ndata: two\n\n'.length);
    assert.ok(sample(text, 'herald_publish_to_write_seconds_count') >= 2);
    assert.equal(sample(text, 'herald_slow_consumers_dropped_total'), 0);
    assert.equal(sample(text, 'herald_store_errors_total{operation="publish"}'), 0);
    // Node's process metrics come along.
    assert.ok(sample(text, 'process_resident_memory_bytes') > 10_000_000);
    assert.match(text, /^nodejs_eventloop_lag_seconds /m);
    assert.match(text, /^# TYPE herald_publish_to_write_seconds histogram$/m);
  } finally {
    stream.close();
    await herald.close();
  }
});

test('/metrics counts replays and the updates they sent', async () => {
  const herald = await startTestHerald({ subscriptions: false });
  const token = await publisherToken();
  try {
    for (const data of ['a', 'b', 'c']) assert.equal((await publish(herald.url, { topic: 'urn:replay', data }, token)).status, 200);
    const replay = collect(hubUrl(herald.url, [['topic', 'urn:replay'], ['lastEventID', 'earliest']]));
    await replay.waitFor(3);
    replay.close();
    const text = await scrape(herald.url);
    assert.equal(sample(text, 'herald_replays_total'), 1);
    assert.equal(sample(text, 'herald_replayed_updates_total'), 3);
  } finally {
    await herald.close();
  }
});

test('/readyz follows the store; a store that went away shows as failed publishes and store errors', async () => {
  const path = join(dir, 'ready.db');
  const herald = await startTestHerald({ store: `sqlite:${path}` });
  try {
    const ready = await fetch(`${herald.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', store: `sqlite:${path}` });
    assert.deepEqual(await (await fetch(`${herald.url}/healthz`)).json(), { status: 'ok' });

    await herald.broker.close();
    const down = await fetch(`${herald.url}/readyz`);
    assert.equal(down.status, 503);
    assert.deepEqual(await down.json(), { status: 'unavailable', store: `sqlite:${path}` });
    assert.equal((await fetch(`${herald.url}/healthz`)).status, 200, 'the process itself is still up');
    const refused = await publish(herald.url, { topic: 'urn:down', data: 'x' }, await publisherToken());
    assert.equal(refused.status, 503);
    assert.equal(JSON.parse(refused.body).error, 'store_unavailable');
    const text = await scrape(herald.url);
    assert.equal(sample(text, 'herald_publish_requests_total{outcome="failed"}'), 1);
    assert.equal(sample(text, 'herald_store_errors_total{operation="publish"}'), 1);
    assert.equal(sample(text, 'herald_store_errors_total{operation="ready"}'), 1);
  } finally {
    await herald.close();
  }
});

test('--no-metrics and --no-status-page leave those endpoints out', async () => {
  const herald = await startTestHerald({ metrics: false, statusPage: false });
  try {
    assert.equal((await fetch(`${herald.url}/metrics`)).status, 404);
    assert.equal((await fetch(`${herald.url}/status`)).status, 404);
    assert.equal((await fetch(`${herald.url}/status/stream`)).status, 404);
    assert.equal((await fetch(`${herald.url}/healthz`)).status, 200);
  } finally {
    await herald.close();
  }
});
