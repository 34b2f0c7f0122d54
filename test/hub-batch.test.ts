// Herald's batch publication: JSON on the Mercure endpoint, all-or-nothing checks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hubUrl, mintToken, PUBLISHER_KEY, publishOk, useHerald } from './support/herald.js';
import { collect } from './support/stream.js';

async function postBatch(baseUrl: string, body: unknown, token: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}/.well-known/mercure`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('batch publish', () => {
  const fixture = useHerald();

  test('publishes every update in order and returns their ids', async () => {
    const stream = collect(hubUrl(fixture.herald.url, [['topic', 'https://example.com/b/{n}']]), { eventTypes: ['note'] });
    await stream.opened;
    const updates = [
      { topic: 'https://example.com/b/1', data: 'one' },
      { topics: ['https://example.com/b/2', 'https://example.com/other'], data: 'two\nlines', type: 'note', retry: 500 },
      { topic: 'https://example.com/b/3', data: 'three', id: 'batch-id-3' },
    ];
    const { status, json } = await postBatch(fixture.herald.url, { updates }, fixture.token);
    assert.equal(status, 200, JSON.stringify(json));
    const ids = json.ids as string[];
    assert.equal(ids.length, 3);
    assert.equal(ids[2], 'batch-id-3');
    const events = await stream.waitFor(3);
    assert.deepEqual(events, [
      { type: 'message', id: ids[0], data: 'one' },
      { type: 'note', id: ids[1], data: 'two\nlines' },
      { type: 'message', id: 'batch-id-3', data: 'three' },
    ]);
    stream.close();
  });

  test('one bad entry refuses the whole batch, naming it, and nothing is published', async () => {
    const stream = collect(hubUrl(fixture.herald.url, [['topic', 'https://example.com/atomic']]));
    await stream.opened;
    const cases: Array<[unknown, number, RegExp]> = [
      [{ updates: [{ topic: 'https://example.com/atomic', data: 'ok' }, { topic: 'https://example.com/atomic', id: 'bad\nid' }] }, 400, /updates\[1\]/],
      [{ updates: [{ topic: 'https://example.com/atomic' }, { data: 'no topic' }] }, 400, /updates\[1\]/],
      [{ updates: [{ topic: 'https://example.com/atomic', retry: -3 }] }, 400, /updates\[0\].*retry/],
      [{ updates: [{ topic: '/.well-known/mercure/subscriptions/x/y' }] }, 400, /updates\[0\]/],
      [{ nope: true }, 400, /updates/],
      [{ updates: [] }, 400, /no update/],
    ];
    for (const [body, status, message] of cases) {
      const result = await postBatch(fixture.herald.url, body, fixture.token);
      assert.equal(result.status, status, JSON.stringify(result.json));
      assert.match(String(result.json.message), message);
    }
    const narrow = await mintToken({ mercure: { publish: ['https://example.com/atomic'] } }, PUBLISHER_KEY);
    const denied = await postBatch(fixture.herald.url, { updates: [{ topic: 'https://example.com/atomic' }, { topic: 'https://example.com/elsewhere' }] }, narrow);
    assert.equal(denied.status, 403);
    const marker = await publishOk(fixture.herald.url, { topic: 'https://example.com/atomic', data: 'marker' });
    const [first] = await stream.waitFor(1);
    assert.equal(first?.id, marker, 'nothing from the refused batches came before the marker');
    stream.close();
  });
});
