// The status page over HTTP: a page with no inline script or style whose assets are
// served by Herald itself, and /status/stream, Herald's own event stream of samples
// whose numbers follow the traffic; viewers are capped and told to retry on close.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { registerErrorHandling } from '../src/http/errors.js';
import { registerStatusRoute } from '../src/http/status-route.js';
import { StatusSampler, type StatusSample } from '../src/observability/status-sampler.js';
import { hubUrl, publishOk, publisherToken, startTestHerald } from './support/herald.js';
import { rawStream, type RawStream } from './support/stream.js';

/** The samples received so far on a raw /status/stream. */
function samples(stream: RawStream): StatusSample[] {
  return [...stream.text().matchAll(/event: sample\ndata: (.*)\n\n/g)].map((m) => JSON.parse(m[1]!) as StatusSample);
}

test('/status is a page without inline script or style, whose assets Herald serves', async () => {
  const herald = await startTestHerald();
  try {
    const page = await fetch(`${herald.url}/status`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const html = await page.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    for (const [, attributes, body] of scripts) {
      assert.match(attributes!, /src="\/status\/status\.js"/);
      assert.equal(body!.trim(), '', 'no inline script');
    }
    assert.doesNotMatch(html, /\sstyle=|<style|\son[a-z]+=/i, 'no inline style or event handler attributes');
    assert.doesNotMatch(html, /https?:\/\//, 'nothing loaded from another origin');
    for (const [path, type] of [['/status/status.js', 'text/javascript'], ['/status/sparkline.js', 'text/javascript'], ['/status/status.css', 'text/css']] as const) {
      const asset = await fetch(`${herald.url}${path}`);
      assert.equal(asset.status, 200, path);
      assert.match(asset.headers.get('content-type') ?? '', new RegExp(`^${type}`), path);
      assert.equal(asset.headers.get('x-content-type-options'), 'nosniff');
    }
    const script = await (await fetch(`${herald.url}/status/status.js`)).text();
    assert.match(script, /from '\.\/sparkline\.js'/);
    assert.equal((await fetch(`${herald.url}/status/nothing.js`)).status, 404);
  } finally {
    await herald.close();
  }
});

test('/status/stream sends the kept history, then a sample a second that follows the traffic', async () => {
  const herald = await startTestHerald({ subscriptions: false });
  const subscribers = await Promise.all([1, 2].map(() => rawStream(hubUrl(herald.url, [['topic', 'urn:status']]))));
  const status = await rawStream(`${herald.url}/status/stream`);
  try {
    assert.equal(status.status, 200);
    assert.match(String(status.headers['content-type']), /^text\/event-stream/);
    await status.waitForText('event: history\ndata: [');
    const token = await publisherToken();
    // Traffic until a sample has seen it (at most ~3 sampling periods).
    let sent = 0;
    const deadline = Date.now() + 5000;
    let busy: StatusSample | undefined;
    while (busy === undefined && Date.now() < deadline) {
      for (let i = 0; i < 20; i++, sent++) await publishOk(herald.url, { topic: 'urn:status', data: `m${sent}` }, token);
      await subscribers[0]!.waitForText(`data: m${sent - 1}\n`);
      busy = samples(status).find((s) => s.updatesPerSecond > 0);
      if (busy === undefined) await status.waitForText('event: sample', 1500).catch(() => undefined);
      busy = samples(status).find((s) => s.updatesPerSecond > 0);
    }
    assert.ok(busy, `a sample saw the ${sent} updates: ${status.text().slice(-400)}`);
    assert.equal(busy.connections, 2);
    assert.ok(busy.deliveriesPerSecond >= busy.updatesPerSecond * 2 - 1, JSON.stringify(busy));
    assert.ok(busy.bytesOutPerSecond > 0);
    assert.ok(busy.latencyP50Ms !== null && busy.latencyP50Ms >= 0 && busy.latencyP99Ms! >= busy.latencyP50Ms);
    assert.ok(busy.rssBytes > 10_000_000);
    assert.ok(busy.updatesTotal <= sent && busy.updatesTotal > 0);
  } finally {
    for (const s of subscribers) s.close();
    const closing = herald.close();
    // Shutting down ends the status stream with a retry hint instead of holding the server open.
    await status.waitForText('retry: 2000\n\n');
    await closing;
    status.close();
  }
});

test('status viewers are capped; one past the cap gets a 503', async () => {
  const herald = await startTestHerald();
  const app = Fastify();
  registerErrorHandling(app);
  const sampler = new StatusSampler({ hub: herald.hub, latency: herald.telemetry.latency, intervalMs: 60_000 });
  registerStatusRoute(app, { sampler, maxViewers: 1 });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const first = await rawStream(`${url}/status/stream`);
  try {
    assert.equal(first.status, 200);
    const second = await fetch(`${url}/status/stream`);
    assert.equal(second.status, 503);
    assert.equal(second.headers.get('retry-after'), '10');
  } finally {
    await app.close();
    first.close();
    await herald.close();
  }
});
