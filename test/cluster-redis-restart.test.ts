// A Redis restart under two Herald processes, on a PRIVATE redis-server child (the shared
// one on 6379 is never touched): while it is down the processes stay up, publishes get a
// 503 with a JSON message, /readyz says 503 and subscribers stay connected; once it is
// back every publish answered 200 is delivered, on the same open stream.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../scripts/cluster/ports.js';
import { startRedisServer, type RedisServer } from '../scripts/cluster/redis-process.js';
import { hubUrl, publish, PUBLISHER_KEY, publisherToken } from './support/herald.js';
import { skipWithout } from './support/nginx.js';
import { spawnHerald, type HeraldProcess } from './support/process.js';
import { collect } from './support/stream.js';

const skip = skipWithout('redis-server');
const TOPIC = 'https://example.com/redis-restart';
const servers: RedisServer[] = [];
const heralds: HeraldProcess[] = [];
after(async () => {
  await Promise.all(heralds.map((h) => h.stop('SIGKILL')));
  await Promise.all(servers.map((s) => s.stop('SIGKILL')));
});

async function readiness(url: string): Promise<{ status: number; body: { status: string; store: string } }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; store: string } };
}

test('redis restart mid-stream: 503s and /readyz 503 during the outage, same stream delivers again after', { skip, timeout: 60_000 }, async () => {
  const port = await freePort();
  servers.push(await startRedisServer(port));
  const store = `redis://127.0.0.1:${port}/0`;
  const args = ['--store', store, '--redis-prefix', 'restart:', '--publisher-jwt-key', PUBLISHER_KEY];
  const [a, b] = await Promise.all([spawnHerald(args), spawnHerald(args)]);
  heralds.push(a!, b!);
  const token = await publisherToken();
  const stream = collect(hubUrl(b!.url, [['topic', TOPIC]]));
  let opens = 0;
  let errors = 0;
  stream.source.addEventListener('open', () => opens++);
  stream.source.addEventListener('error', () => errors++);
  try {
    await stream.opened;
    const acknowledged: string[] = [];
    const publishTo = async (url: string, id: string) => {
      const result = await publish(url, { topic: TOPIC, id, data: id }, token);
      if (result.status === 200) acknowledged.push(id);
      return result;
    };
    for (let i = 1; i <= 4; i++) assert.equal((await publishTo(i % 2 ? a!.url : b!.url, `before-${i}`)).status, 200);
    await stream.waitFor(4);

    await servers[0]!.stop('SIGKILL');
    for (const [i, url] of [a!.url, b!.url, a!.url].entries()) {
      const startedAt = Date.now();
      const refused = await publishTo(url, `during-${i}`);
      assert.equal(refused.status, 503, refused.body);
      const body = JSON.parse(refused.body) as { error: string; message: string };
      assert.equal(body.error, 'store_unavailable');
      assert.match(body.message, /Redis/);
      assert.ok(Date.now() - startedAt < 3000, `the 503 took ${Date.now() - startedAt} ms`);
    }
    for (const url of [a!.url, b!.url]) {
      assert.deepEqual(await readiness(url), { status: 503, body: { status: 'unavailable', store } });
      assert.equal((await fetch(`${url}/healthz`)).status, 200, 'the process itself is fine');
    }
    assert.equal(stream.source.readyState, stream.source.OPEN, 'the subscriber is still connected');

    servers.push(await startRedisServer(port));
    // Each process reconnects on its own backoff (capped at 2 s): poll readiness, bounded.
    const deadline = Date.now() + 15_000;
    for (const url of [a!.url, b!.url]) {
      while ((await readiness(url)).status !== 200) {
        assert.ok(Date.now() < deadline, `${url} did not report ready within 15 s of Redis' restart`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    for (let i = 1; i <= 6; i++) {
      const result = await publishTo(i % 2 ? a!.url : b!.url, `after-${i}`);
      assert.equal(result.status, 200, result.body);
    }
    const events = await stream.waitFor(10, 10_000);
    assert.deepEqual(events.map((e) => e.id), acknowledged, 'every acknowledged publish, once, in order');
    assert.deepEqual(acknowledged.filter((id) => id.startsWith('during-')), [], 'nothing refused was stored');
    assert.equal(opens, 1, 'the stream never had to reconnect');
    assert.equal(errors, 0);
    assert.equal(a!.child.exitCode, null);
    assert.equal(b!.child.exitCode, null);
  } finally {
    stream.close();
  }
});
