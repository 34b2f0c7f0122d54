// The shipped nginx config (deploy/nginx/herald.conf) in front of real Herald
// servers: events pass without buffering, limits answer 503/429 with JSON, the
// chat's assets are cached, the browser's Host reaches Herald.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { WEB_ROOT } from '../src/chat/static.js';
import type { Herald } from '../src/herald.js';
import type { NginxProcess } from '../scripts/cluster/nginx-process.js';
import { hubUrl, publish, publisherToken, startTestHerald } from './support/herald.js';
import { servedBy, skipWithout, startTestNginx } from './support/nginx.js';
import { rawStream, type RawStream } from './support/stream.js';

const skip = skipWithout('nginx');
const TOPIC = 'https://example.com/nginx';
let heralds: Herald[] = [];

/** A buffering proxy would hold even the response headers back: fail fast instead of hanging. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
let nginx: NginxProcess | undefined;

before(async () => {
  if (skip) return;
  // One process: the memory store is not shared (test/cluster-*.test.ts run several on Redis).
  heralds = [await startTestHerald()];
  nginx = await startTestNginx(heralds.map((h) => h.url));
});
after(async () => {
  await nginx?.stop();
  await Promise.all(heralds.map((h) => h.close()));
});

test('nginx: the first event reaches a subscriber within 100 ms of the publish (nothing buffered)', { skip }, async (t) => {
  const stream = await within(rawStream(hubUrl(nginx!.url, [['topic', TOPIC]]), { 'Accept-Encoding': 'gzip' }), 2000, 'opening the stream through nginx');
  try {
    assert.equal(stream.status, 200);
    assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
    assert.equal(stream.headers['content-encoding'], undefined, 'event streams are never compressed');
    assert.ok(heralds.some((h) => new URL(h.url).host === servedBy(stream.headers)), `served by ${servedBy(stream.headers)}`);
    const token = await publisherToken();
    const startedAt = performance.now();
    const published = await publish(nginx!.url, { topic: TOPIC, id: 'first-through-nginx', data: 'hello' }, token);
    assert.equal(published.status, 200, published.body);
    await stream.waitForText('data: hello\n\n', 2000);
    const elapsed = performance.now() - startedAt;
    t.diagnostic(`first event delivered ${elapsed.toFixed(1)} ms after the publish started`);
    assert.ok(elapsed < 100, `the first event took ${elapsed.toFixed(1)} ms through nginx`);
    assert.match(stream.text(), /id: first-through-nginx\ndata: hello\n\n/);
  } finally {
    stream.close();
  }
});

test('nginx: the largest update Herald accepts passes nginx (client_max_body_size matches --body-limit)', { skip }, async () => {
  // 1 MiB of data (the default --data-limit) whose every byte is percent-encoded: the form body is
  // three times that, the case Herald's default --body-limit (3 x data + 64 KiB) is sized for.
  const data = '\u00e9'.repeat(1_048_576 / 2);
  const published = await publish(nginx!.url, { topic: TOPIC, id: 'largest-through-nginx', data }, await publisherToken());
  assert.equal(published.status, 200, published.body.slice(0, 200));
  assert.equal(published.body, 'largest-through-nginx');
  const tooLarge = await fetch(`${nginx!.url}/.well-known/mercure`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'data='.padEnd(4 * 1024 * 1024, 'a') });
  assert.equal(tooLarge.status, 413);
});

test('nginx: the chat page and its assets pass, assets cached; the browser Host reaches Herald', { skip: skip || (existsSync(`${WEB_ROOT}/index.html`) ? false : 'web/dist not built') }, async () => {
  const page = await fetch(`${nginx!.url}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>Herald/);
  assert.equal(page.headers.get('cache-control'), 'no-cache', 'the page itself is never cached');
  const first = await fetch(`${nginx!.url}/app.js`);
  const body = await first.text();
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('cache-control'), 'max-age=300');
  const second = await fetch(`${nginx!.url}/app.js`);
  assert.equal(await second.text(), body);
  assert.equal(second.headers.get('x-cache-status'), 'HIT');
  // The chat's CSRF check compares Origin with Host: nginx must pass the browser's Host on.
  const login = await fetch(`${nginx!.url}/api/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: nginx!.url },
    body: JSON.stringify({ nickname: 'proxied' }),
  });
  assert.equal(login.status, 200, await login.text());
});

test('nginx: the subscriptions API is proxied with its JSON errors', { skip }, async () => {
  const response = await fetch(`${nginx!.url}/.well-known/mercure/subscriptions`);
  assert.equal(response.status, 401);
  assert.equal(((await response.json()) as { error: string }).error, 'unauthorized');
});

test('nginx: past limit_conn a subscription gets 503 (JSON); publishes are not counted', { skip }, async () => {
  const limited = await startTestNginx([heralds[0]!.url], { subscriptionsPerAddress: 2 });
  const streams: RawStream[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      streams.push(await rawStream(hubUrl(limited.url, [['topic', TOPIC]])));
      assert.equal(streams[i]!.status, 200);
    }
    const refused = await fetch(hubUrl(limited.url, [['topic', TOPIC]]));
    assert.equal(refused.status, 503);
    assert.deepEqual(await refused.json(), { error: 'too_many_connections', message: 'Too many open event streams from this address' });
    const published = await publish(limited.url, { topic: TOPIC, data: 'still allowed' }, await publisherToken());
    assert.equal(published.status, 200, 'two open streams do not stop a publish');
    // Once a stream closes its slot frees up (nginx notices the close asynchronously).
    streams.shift()!.close();
    const deadline = Date.now() + 5000;
    for (;;) {
      const again = await rawStream(hubUrl(limited.url, [['topic', TOPIC]]));
      streams.push(again);
      if (again.status === 200) break;
      assert.equal(again.status, 503);
      assert.ok(Date.now() < deadline, 'the closed stream never freed its slot');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    for (const stream of streams) stream.close();
    await limited.stop();
  }
});

test('nginx: past limit_req a publish gets 429 (JSON, Retry-After); subscriptions are not counted', { skip }, async () => {
  // 1 per minute with a burst of 2: exactly three pass, however slow the machine.
  const limited = await startTestNginx([heralds[0]!.url], { publishRate: '1r/m', publishBurst: 2 });
  const token = await publisherToken();
  try {
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await publish(limited.url, { topic: TOPIC, data: `burst ${i}` }, token));
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 429, 429]);
    assert.deepEqual(JSON.parse(results[3]!.body), { error: 'rate_limited', message: 'Too many publishes from this address; retry later' });
    assert.equal(results[3]!.headers.get('retry-after'), '1');
    const stream = await rawStream(hubUrl(limited.url, [['topic', TOPIC]]));
    stream.close();
    assert.equal(stream.status, 200, 'subscribing is not rate limited');
  } finally {
    await limited.stop();
  }
});
