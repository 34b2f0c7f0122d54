// The embedded SQLite store is durable: what got a 200 survives a restart (graceful
// or kill -9), and resume ids keep working across it. Runs the real CLI.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hubUrl, PUBLISHER_KEY, publishOk, publisherToken } from './support/herald.js';
import { spawnHerald } from './support/process.js';
import { collect } from './support/stream.js';

const dir = mkdtempSync(join(tmpdir(), 'herald-restart-'));
after(() => rmSync(dir, { recursive: true, force: true }));

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  test(`history survives a restart after ${signal}`, async () => {
    const store = `sqlite:${join(dir, `${signal}.db`)}`;
    const args = ['--store', store, '--publisher-jwt-key', PUBLISHER_KEY];
    const token = await publisherToken();
    const first = await spawnHerald(args);
    const ids: string[] = [];
    try {
      for (let i = 0; i < 25; i++) ids.push(await publishOk(first.url, { topic: 'https://example.com/durable', data: `m${i}` }, token));
    } finally {
      assert.equal(await first.stop(signal), signal === 'SIGTERM' ? 0 : 'SIGKILL');
    }
    const second = await spawnHerald(args);
    try {
      const stream = collect(hubUrl(second.url, [['topic', 'https://example.com/durable'], ['lastEventID', 'earliest']]));
      const events = await stream.waitFor(25);
      assert.deepEqual(events.map((e) => e.id), ids);
      assert.deepEqual(events.map((e) => e.data), ids.map((_, i) => `m${i}`));
      stream.close();
      const resumed = collect(hubUrl(second.url, [['topic', 'https://example.com/durable'], ['lastEventID', ids[19]!]]));
      assert.deepEqual((await resumed.waitFor(5)).map((e) => e.id), ids.slice(20));
      resumed.close();
    } finally {
      await second.stop();
    }
  });
}

test('a bad option stops the CLI with a message naming it', async () => {
  await assert.rejects(spawnHerald(['--heartbeat', 'often']), /--heartbeat: expected a whole number/);
  await assert.rejects(spawnHerald([], { HERALD_HISTORY_MAX_AGE: 'a week' }), /--history-max-age: expected a whole number.*HERALD_HISTORY_MAX_AGE/);
});
