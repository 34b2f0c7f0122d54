// History and resume: Last-Event-ID (header and query), earliest, unknown ids,
// and a real EventSource reconnecting after the server dropped it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hubUrl, publishOk, publisherToken, useHerald } from './support/herald.js';
import { collect, rawStream } from './support/stream.js';

describe('history and resume', () => {
  const fixture = useHerald({ store: 'memory' });

  async function publishMany(topic: string, count: number, prefix = ''): Promise<string[]> {
    const token = await publisherToken();
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push(await publishOk(fixture.herald.url, { topic, data: `${prefix}${i}` }, token));
    return ids;
  }

  test('resume after 100 events with Last-Event-ID loses and duplicates none, while live updates keep coming', async () => {
    const topic = 'https://example.com/resume';
    const ids = await publishMany(topic, 100);
    const stream = collect(hubUrl(fixture.herald.url, [['topic', topic]]), { headers: { 'Last-Event-ID': ids[39]! } });
    // Live updates race with the replay: they must follow it, once each.
    const live = publishMany(topic, 20, 'live-');
    const liveIds = await live;
    const events = await stream.waitFor(60 + 20, 8000);
    stream.close();
    const expected = [...ids.slice(40), ...liveIds];
    assert.deepEqual(events.map((e) => e.id), expected);
    assert.equal(new Set(events.map((e) => e.id)).size, expected.length);
    assert.equal(stream.events.length, expected.length);
  });

  test('lastEventID and last_event_id query parameters, and earliest', async () => {
    const topic = 'https://example.com/query-resume';
    const ids = await publishMany(topic, 5);
    for (const [name, value, expected] of [
      ['lastEventID', ids[2]!, ids.slice(3)],
      ['last_event_id', ids[0]!, ids.slice(1)],
      ['lastEventID', 'earliest', ids],
    ] as const) {
      const stream = collect(hubUrl(fixture.herald.url, [['topic', topic], [name, value]]));
      const events = await stream.waitFor(expected.length);
      assert.deepEqual(events.map((e) => e.id), expected, `${name}=${value}`);
      stream.close();
    }
  });

  test('the response says which id precedes the first event sent (the requested one), and earliest when the requested id is unknown', async () => {
    const topic = 'https://example.com/unknown-id';
    const ids = await publishMany(topic, 3);
    const known = await rawStream(hubUrl(fixture.herald.url, [['topic', topic], ['lastEventID', ids[0]!]]));
    assert.equal(known.headers['last-event-id'], ids[0]);
    assert.equal(known.headers['mercure-last-event-id'], ids[0]);
    await known.waitForText(`id: ${ids[2]}\n`);
    known.close();
    const unknown = await rawStream(hubUrl(fixture.herald.url, [['topic', topic], ['lastEventID', 'urn:uuid:never-published']]));
    assert.equal(unknown.headers['last-event-id'], 'earliest');
    // The client lost track: it gets everything kept for its topics.
    await unknown.waitForText(`id: ${ids[2]}\n`);
    assert.ok(unknown.text().includes(`id: ${ids[0]}\n`));
    unknown.close();
  });

  test('a real EventSource dropped by the server reconnects with Last-Event-ID: no gap, no duplicate', async () => {
    const topic = 'https://example.com/reconnect';
    const token = await publisherToken();
    const stream = collect(hubUrl(fixture.herald.url, [['topic', topic]]));
    await stream.opened;
    const ids: string[] = [];
    // retry=50 makes the client come back quickly after the drop.
    ids.push(await publishOk(fixture.herald.url, { topic, data: 'first', retry: '50' }, token));
    await stream.waitFor(1);
    fixture.herald.hub.disconnectAll();
    for (let i = 0; i < 10; i++) ids.push(await publishOk(fixture.herald.url, { topic, data: `while-away-${i}` }, token));
    const events = await stream.waitFor(11, 8000);
    ids.push(await publishOk(fixture.herald.url, { topic, data: 'after' }, token));
    await stream.waitFor(12);
    stream.close();
    assert.deepEqual([...events.map((e) => e.id), stream.events[11]!.id], ids);
    assert.equal(stream.events.length, 12);
  });

  test('history respects the subscriber: private updates are not replayed without the claim', async () => {
    const topic = 'https://example.com/private-history';
    const token = await publisherToken();
    await publishOk(fixture.herald.url, [['topic', topic], ['data', 'secret'], ['private', '']], token);
    const open = await publishOk(fixture.herald.url, { topic, data: 'public' }, token);
    const stream = collect(hubUrl(fixture.herald.url, [['topic', topic], ['lastEventID', 'earliest']]));
    const [event] = await stream.waitFor(1);
    assert.equal(event?.id, open);
    stream.close();
  });
});
