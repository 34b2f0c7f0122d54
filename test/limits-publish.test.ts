// Publish-side limits over HTTP, each from its option: body size (413), data size
// (413), topics per update and field lengths (413, draft 08; both doors), publish rate
// per token or address (429 + Retry-After), and the replay cap; each refusal is a JSON
// error, logged once.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FRONT_DOORS, hubUrl, mintToken, publish, PUBLISHER_KEY, publisherToken, withHerald } from './support/herald.js';
import { collect } from './support/stream.js';
import { MAX_BATCH } from '../src/http/batch-fields.js';

const errorOf = (body: string) => JSON.parse(body) as { error: string; message: string };
const limitLines = (logs: Array<Record<string, unknown>>, limit: string) => logs.filter((line) => line.limit === limit);

describe('publish limits', () => {
  test('body size: 413 payload_too_large, logged once for five refusals', async () => {
    await withHerald({ bodyLimit: 1024 }, async (herald, logs) => {
      const token = await publisherToken();
      for (let i = 0; i < 5; i++) {
        const result = await publish(herald.url, { topic: 't', data: 'x'.repeat(2000) }, token);
        assert.equal(result.status, 413);
        assert.equal(errorOf(result.body).error, 'payload_too_large');
      }
      assert.equal(limitLines(logs, 'payload_too_large').length, 1);
    });
  });

  test('data size (--data-limit), counted in UTF-8 bytes: 100 pass, 102 are refused with 413', async () => {
    await withHerald({ dataLimit: 100 }, async (herald) => {
      const token = await publisherToken();
      assert.equal((await publish(herald.url, { topic: 't', data: 'é'.repeat(50) }, token)).status, 200);
      const over = await publish(herald.url, { topic: 't', data: 'é'.repeat(51) }, token);
      assert.equal(over.status, 413);
      assert.match(errorOf(over.body).message, /"data" is larger than 100 bytes/);
    });
  });

  for (const door of FRONT_DOORS) {
    test(`topics per update (--max-topics): 3 pass, 4 get 413 too_many_topics, in a form and in a batch (${door.name})`, async () => {
      await withHerald({ maxTopics: 3, ...door.config }, async (herald, logs) => {
        const token = await publisherToken();
        const topics = (n: number) => Array.from({ length: n }, (_, i): [string, string] => ['topic', `https://example.com/${i}`]);
        assert.equal((await publish(herald.url, topics(3), token)).status, 200);
        const over = await publish(herald.url, topics(4), token);
        assert.equal(over.status, 413, 'draft 08: a publication past its limits is a 413');
        assert.deepEqual(errorOf(over.body), { error: 'too_many_topics', message: 'Too many topics: 4 (at most 3)' });
        const batch = await fetch(`${herald.url}/.well-known/mercure`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ updates: [{ topic: 'a' }, { topics: ['a', 'b', 'c', 'd'] }] }),
        });
        assert.equal(batch.status, 413);
        assert.match(errorOf(await batch.text()).message, /updates\[1\]: Too many topics/);
        assert.equal(limitLines(logs, 'too_many_topics').length, 1, 'two refusals from one client, one line');
      });
    });

    test(`a batch of MAX_BATCH + 1 updates gets 413 too_many_updates in both shapes, even past the publish rate, and stores nothing; MAX_BATCH passes (${door.name})`, async () => {
      // A burst far below the batch: charged per update it would be a 429 no wait could cure.
      await withHerald({ publishRate: 1, publishBurst: 3, ...door.config }, async (herald, logs) => {
        const token = await publisherToken();
        const send = (body: unknown) =>
          fetch(`${herald.url}/.well-known/mercure`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
        const updates = Array.from({ length: MAX_BATCH + 1 }, (_, i) => ({ topic: 'https://example.com/too-many', data: `${i}` }));
        for (const body of [{ updates }, updates]) {
          const over = await send(body);
          assert.equal(over.status, 413);
          assert.deepEqual(errorOf(await over.text()), { error: 'too_many_updates', message: `A batch holds at most ${MAX_BATCH} updates, got ${MAX_BATCH + 1}: split it into several requests` });
        }
        const { updates: kept } = await herald.broker.history({ afterId: null, filter: () => true, limit: MAX_BATCH * 2 });
        assert.equal(kept.length, 0, 'nothing of the refused batches is stored');
        assert.equal(limitLines(logs, 'too_many_updates').length, 1, 'logged as a limit, once');
        const within = await send({ updates: [{ topic: 'https://example.com/too-many', data: 'ok' }] });
        assert.equal(within.status, 200, 'each refused batch cost one token: one of three is left');
        void within.body?.cancel();
      });
      await withHerald({ ...door.config }, async (herald) => {
        const token = await publisherToken();
        const updates = Array.from({ length: MAX_BATCH }, (_, i) => ({ topic: 'https://example.com/at-limit', data: `${i}` }));
        const atLimit = await fetch(`${herald.url}/.well-known/mercure`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ updates }) });
        assert.equal(atLimit.status, 200);
        assert.equal(((await atLimit.json()) as { ids: string[] }).ids.length, MAX_BATCH);
      });
    });

    test(`field lengths: an id over 1024, a type over 256, a topic over 2048 characters get 413 field_too_long; at the limit they pass (${door.name})`, async () => {
      await withHerald({ ...door.config }, async (herald) => {
        const token = await publisherToken();
        const ok = [['topic', `https://example.com/${'t'.repeat(2048 - 20)}`], ['id', `urn:x:${'i'.repeat(1024 - 6)}`], ['type', 'y'.repeat(256)]] as Array<[string, string]>;
        const accepted = await publish(herald.url, ok, token);
        assert.equal(accepted.status, 200, accepted.body);
        assert.equal(accepted.body, ok[1]![1], 'the id at its limit is stored as sent');
        for (const [what, fields, field] of [
          ['id', [['topic', 't'], ['id', 'i'.repeat(1025)]], '"id"'],
          ['type', [['topic', 't'], ['type', 'y'.repeat(257)]], '"type"'],
          ['topic', [['topic', 't'.repeat(2049)]], 'topic'],
        ] as const) {
          const refused = await publish(herald.url, fields as unknown as Array<[string, string]>, token);
          assert.equal(refused.status, 413, what);
          assert.equal(errorOf(refused.body).error, 'field_too_long', what);
          assert.match(errorOf(refused.body).message, new RegExp(`${field.replace(/"/g, '.')}.*longer than`), what);
        }
      });
    });
  }

  test('publish rate per token: the burst passes, then 429 with Retry-After; another token has its own budget', async () => {
    await withHerald({ publishRate: 1, publishBurst: 3 }, async (herald, logs) => {
      const alice = await mintToken({ mercure: { publish: ['*'] }, sub: 'alice' }, PUBLISHER_KEY);
      const bob = await mintToken({ mercure: { publish: ['*'] }, sub: 'bob' }, PUBLISHER_KEY);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await publish(herald.url, { topic: 't', data: `${i}` }, alice)).status);
      const limited = await publish(herald.url, { topic: 't' }, alice);
      assert.deepEqual([...statuses, limited.status], [200, 200, 200, 429]);
      assert.equal(errorOf(limited.body).error, 'rate_limited');
      assert.ok(Number(limited.headers.get('retry-after')) >= 1, `Retry-After ${limited.headers.get('retry-after')}`);
      assert.equal((await publish(herald.url, { topic: 't' }, bob)).status, 200);
      for (let i = 0; i < 4; i++) assert.equal((await publish(herald.url, { topic: 't' }, alice)).status, 429);
      const batch = await fetch(`${herald.url}/.well-known/mercure`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${bob}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ updates: [{ topic: 'a' }, { topic: 'b' }, { topic: 'c' }] }),
      });
      assert.equal(batch.status, 429, 'a batch costs one token per update: bob has 2 left');
      assert.match(errorOf(await batch.text()).message, /this batch has 3/);
      assert.equal(limitLines(logs, 'rate_limited').length, 1, 'seven refusals from 127.0.0.1, one line');
    });
  });

  test('a batch is charged one token per update in both shapes: {"updates": [...]} and a bare array', async () => {
    for (const shape of ['wrapped', 'bare'] as const) {
      await withHerald({ publishRate: 1, publishBurst: 2 }, async (herald) => {
        const token = await publisherToken();
        const three = [{ topic: 'a' }, { topic: 'b' }, { topic: 'c' }];
        const two = [{ topic: 'a' }, { topic: 'b' }];
        const send = (updates: object[]) =>
          fetch(`${herald.url}/.well-known/mercure`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
            body: JSON.stringify(shape === 'bare' ? updates : { updates }),
          });
        const over = await send(three);
        assert.equal(over.status, 429, `${shape}: 3 updates exceed a burst of 2`);
        assert.match(errorOf(await over.text()).message, /this batch has 3/);
        const within = await send(two);
        assert.equal(within.status, 200, `${shape}: 2 updates fit the burst`);
        void within.body?.cancel();
        const after = await send(two);
        assert.equal(after.status, 429, `${shape}: the burst is spent`);
        void after.body?.cancel();
      });
    }
  });

  test('publish rate per address (--publish-rate-by ip): two tokens from one address share the budget', async () => {
    await withHerald({ publishRate: 1, publishBurst: 2, publishRateBy: 'ip' }, async (herald) => {
      const a = await mintToken({ mercure: { publish: ['*'] }, sub: 'a' }, PUBLISHER_KEY);
      const b = await mintToken({ mercure: { publish: ['*'] }, sub: 'b' }, PUBLISHER_KEY);
      const statuses = [await publish(herald.url, { topic: 't' }, a), await publish(herald.url, { topic: 't' }, b), await publish(herald.url, { topic: 't' }, a)].map((r) => r.status);
      assert.deepEqual(statuses, [200, 200, 429]);
    });
  });

  test('the default has no publish rate: 300 publishes in a row pass', async () => {
    await withHerald({}, async (herald) => {
      const token = await publisherToken();
      let ok = 0;
      for (let i = 0; i < 300; i++) if ((await publish(herald.url, { topic: 't' }, token)).status === 200) ok++;
      assert.equal(ok, 300);
    });
  });

  test('replay cap (--replay-max 5): a reconnect gets the 5 newest of 12 missed updates, oldest first', async () => {
    await withHerald({ replayMax: 5 }, async (herald) => {
      const token = await publisherToken();
      const ids: string[] = [];
      for (let i = 0; i < 13; i++) ids.push((await publish(herald.url, { topic: 'https://example.com/replay', data: `u${i}` }, token)).body);
      const resumed = collect(hubUrl(herald.url, [['topic', 'https://example.com/replay'], ['lastEventID', ids[0]!]]));
      const fromStart = collect(hubUrl(herald.url, [['topic', 'https://example.com/replay'], ['lastEventID', 'earliest']]));
      try {
        assert.deepEqual((await resumed.waitFor(5)).map((e) => e.data), ['u8', 'u9', 'u10', 'u11', 'u12']);
        assert.deepEqual((await fromStart.waitFor(5)).map((e) => e.id), ids.slice(8));
        const last = await publish(herald.url, { topic: 'https://example.com/replay', data: 'live' }, token);
        assert.deepEqual((await resumed.waitFor(6)).map((e) => e.id).slice(5), [last.body], 'nothing between the replay and the live update');
      } finally {
        resumed.close();
        fromStart.close();
      }
    });
  });
});
