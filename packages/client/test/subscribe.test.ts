// subscribe() against a real Herald on loopback: typed events, resumption across a
// cut connection and across "page loads" (a storage), refusals that stop retrying.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Herald } from '../../../src/herald.js';
import { publishOk, startTestHerald } from '../../../test/support/herald.js';
import { subscribe } from '../src/index.js';
import type { IdStorage } from '../src/types.js';
import { countStreams, recorder } from './support.js';

/** A well-formed JWT whose signature is wrong: refused as an invalid token (401), not as a malformed one (400). */
const WRONG_SIGNATURE = 'eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl';

const TOPIC = 'https://example.com/client/items';

describe('subscribe against Herald', () => {
  let herald: Herald;
  let streams: ReturnType<typeof countStreams>;
  before(async () => {
    herald = await startTestHerald({ chat: false });
    streams = countStreams(herald.app.server);
  });
  after(() => herald.close());

  test('typed events by type, decoded; states and the open info', async () => {
    const seen: number[] = [];
    const rec = recorder<unknown>();
    const sub = subscribe<{ message: unknown; score: { n: number } }>([TOPIC, { urlPattern: 'https://example.com/client/*' }], { ...rec.handlers, on: { score: (e) => seen.push(e.data.n) } }, {
      hub: `${herald.url}/.well-known/mercure`,
      decode: (data) => JSON.parse(data) as unknown,
    });
    await rec.until('open', () => sub.state === 'open');
    const a = await publishOk(herald.url, { topic: TOPIC, data: '{"n":1}', type: 'score' });
    const b = await publishOk(herald.url, { topic: TOPIC, data: '"plain"' });
    await rec.until('two events', () => rec.events.length === 2);
    sub.close();
    assert.deepEqual(rec.ids(), [a, b]);
    assert.deepEqual(seen, [1]);
    assert.deepEqual(rec.events.map((e) => [e.type, e.data, e.raw]), [['score', { n: 1 }, '{"n":1}'], ['message', 'plain', '"plain"']]);
    assert.deepEqual(rec.states, ['open', 'closed']);
    assert.equal(rec.opens[0]?.leader, true);
    assert.equal(sub.lastEventId, b);
  });

  test('a cut connection resumes from the last id: what was published meanwhile arrives once, in order', async () => {
    const rec = recorder();
    const sub = subscribe(TOPIC, rec.handlers, { hub: `${herald.url}/.well-known/mercure`, initialDelayMs: 200 });
    await rec.until('open', () => sub.state === 'open');
    const before = streams.urls.length;
    const first = [await publishOk(herald.url, { topic: TOPIC, data: '1' }), await publishOk(herald.url, { topic: TOPIC, data: '2' })];
    await rec.until('first two', () => rec.events.length === 2);
    streams.cutAll();
    await rec.until('reconnecting', () => rec.states.includes('reconnecting'));
    const missed = [await publishOk(herald.url, { topic: TOPIC, data: '3' }), await publishOk(herald.url, { topic: TOPIC, data: '4' })];
    await rec.until('the missed two', () => rec.events.length === 4);
    const live = await publishOk(herald.url, { topic: TOPIC, data: '5' });
    await rec.until('live', () => rec.events.length === 5);
    sub.close();
    assert.deepEqual(rec.ids(), [...first, ...missed, live]);
    assert.equal(streams.urls.length, before + 1);
    assert.equal(streams.urls.at(-1)?.searchParams.get('lastEventID'), first[1]);
  });

  test('with a storage, a new subscription (a page load) resumes where the last one stopped', async () => {
    const map = new Map<string, string>();
    const storage: IdStorage = { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v) };
    const options = { hub: `${herald.url}/.well-known/mercure`, persist: storage };
    const one = recorder();
    const first = subscribe(TOPIC, one.handlers, options);
    await one.until('open', () => first.state === 'open');
    const seen = await publishOk(herald.url, { topic: TOPIC, data: 'seen' });
    await one.until('one', () => one.events.length === 1);
    first.close();
    const missed = [await publishOk(herald.url, { topic: TOPIC, data: 'm1' }), await publishOk(herald.url, { topic: TOPIC, data: 'm2' })];
    const two = recorder();
    const second = subscribe(TOPIC, two.handlers, options);
    await two.until('the two missed', () => two.events.length === 2);
    second.close();
    assert.deepEqual(one.ids(), [seen]);
    assert.deepEqual(two.ids(), missed);
    assert.deepEqual([...map.values()], [missed[1]]);
  });

  test('401 stops and reports instead of retrying', async () => {
    const rec = recorder();
    const before = streams.urls.length;
    const sub = subscribe(TOPIC, rec.handlers, { hub: `${herald.url}/.well-known/mercure`, token: WRONG_SIGNATURE, initialDelayMs: 10 });
    await rec.until('closed', () => sub.state === 'closed');
    // Long enough for a few retries at 10 ms had there been any.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(streams.urls.length, before + 1);
    assert.equal(rec.errors.length, 1);
    assert.equal(rec.errors[0]?.fatal, true);
    assert.equal(rec.errors[0]?.error.code, 'unauthorized');
    assert.equal(rec.errors[0]?.error.status, 401);
    assert.deepEqual(rec.states, ['closed']);
  });

  test('a bad selector (400) is a refusal too, with the hub\'s error code', async () => {
    const rec = recorder();
    const sub = subscribe({ urlPattern: 'https://example.com/{' }, rec.handlers, { hub: `${herald.url}/.well-known/mercure` });
    await rec.until('closed', () => sub.state === 'closed');
    assert.equal(rec.errors[0]?.error.status, 400);
    assert.equal(rec.errors[0]?.error.code, 'invalid_field');
  });
});
