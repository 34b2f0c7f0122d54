// Mercure's subscriptions API: subscription events on connect/disconnect (with the
// JWT payload) and the JSON-LD listing, in the 0.x shape.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Herald } from '../src/herald.js';
import { hubUrl, startTestHerald, subscriberToken } from './support/herald.js';
import { collect } from './support/stream.js';

interface SubscriptionJson {
  id: string;
  type: string;
  topic: string;
  subscriber: string;
  active: boolean;
  payload?: { name: string };
}

// The 0.x shape, still served with --subscriptions-format 0.x (and both); the draft's, the
// default, is test/protocol-subscriptions-draft.test.ts.
describe('subscriptions API, 0.x shape', () => {
  let herald: Herald;
  let watcherToken: string;
  before(async () => {
    herald = await startTestHerald({ subscriptionsFormat: '0.x' });
    watcherToken = await subscriberToken(['/.well-known/mercure/subscriptions/{topic}/{subscriber}']);
  });
  after(() => herald.close());

  test('a subscriber connecting and leaving is announced, with its payload', async () => {
    const room = 'https://example.com/rooms/lobby';
    const watcher = collect(hubUrl(herald.url, [['topic', `/.well-known/mercure/subscriptions/${encodeURIComponent(room)}/{subscriber}`]]), { token: watcherToken });
    await watcher.opened;
    const alice = collect(hubUrl(herald.url, [['topic', room]]), { token: await subscriberToken([room], { name: 'alice' }) });
    await alice.opened;
    const [joined] = await watcher.waitFor(1);
    const join = JSON.parse(joined!.data) as SubscriptionJson;
    assert.equal(join.type, 'Subscription');
    assert.equal(join.topic, room);
    assert.equal(join.active, true);
    assert.deepEqual(join.payload, { name: 'alice' });
    assert.match(join.subscriber, /^urn:uuid:/);
    assert.equal(join.id, `/.well-known/mercure/subscriptions/${encodeURIComponent(room)}/${encodeURIComponent(join.subscriber)}`);

    const listing = await fetch(`${herald.url}/.well-known/mercure/subscriptions/${encodeURIComponent(room)}`, { headers: { Authorization: `Bearer ${watcherToken}` } });
    assert.equal(listing.status, 200);
    const body = (await listing.json()) as { type: string; lastEventID: string; subscriptions: SubscriptionJson[] };
    assert.equal(body.type, 'Subscriptions');
    assert.ok(body.lastEventID);
    assert.deepEqual(body.subscriptions.map((s) => [s.subscriber, s.payload?.name]), [[join.subscriber, 'alice']]);

    const one = await fetch(`${herald.url}${join.id}`, { headers: { Authorization: `Bearer ${watcherToken}` } });
    assert.equal(one.status, 200);
    assert.equal(((await one.json()) as SubscriptionJson).subscriber, join.subscriber);

    alice.close();
    const [, left] = await watcher.waitFor(2);
    const leave = JSON.parse(left!.data) as SubscriptionJson;
    assert.equal(leave.active, false);
    assert.equal(leave.subscriber, join.subscriber);
    const after = (await (await fetch(`${herald.url}/.well-known/mercure/subscriptions/${encodeURIComponent(room)}`, { headers: { Authorization: `Bearer ${watcherToken}` } })).json()) as { subscriptions: unknown[] };
    assert.deepEqual(after.subscriptions, []);
    watcher.close();
  });

  test('subscription events are private: a watcher without the claim sees none', async () => {
    const snoop = collect(hubUrl(herald.url, [['topic', '/.well-known/mercure/subscriptions/{topic}/{subscriber}'], ['topic', 'marker']]));
    await snoop.opened;
    const someone = collect(hubUrl(herald.url, [['topic', 'anything']]));
    await someone.opened;
    someone.close();
    const anyone = await fetch(`${herald.url}/.well-known/mercure/subscriptions`);
    assert.equal(anyone.status, 401);
    assert.equal(snoop.events.length, 0);
    snoop.close();
  });
});

describe('CORS, discovery and the home page', () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({ corsOrigins: ['http://app.example'] });
  });
  after(() => herald.close());

  test('allowed origins get credentials-enabled CORS on the stream, others none', async () => {
    const preflight = await fetch(`${herald.url}/.well-known/mercure`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://app.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' },
    });
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://app.example');
    assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
    const controller = new AbortController();
    const stream = await fetch(hubUrl(herald.url, [['topic', 'x']]), { headers: { Origin: 'http://app.example' }, signal: controller.signal });
    assert.equal(stream.headers.get('access-control-allow-origin'), 'http://app.example');
    controller.abort();
    const other = await fetch(`${herald.url}/healthz`, { headers: { Origin: 'http://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  test('/ answers a page with the Mercure discovery link', async () => {
    const response = await fetch(`${herald.url}/`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/html/);
    assert.match(response.headers.get('link') ?? '', /\/\.well-known\/mercure>; rel="mercure"/);
  });

  test('unknown routes get a JSON 404; health and readiness answer', async () => {
    const missing = await fetch(`${herald.url}/nope`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: string }).error, 'not_found');
    assert.equal((await fetch(`${herald.url}/healthz`)).status, 200);
    const ready = await fetch(`${herald.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { status: string }).status, 'ready');
  });
});
