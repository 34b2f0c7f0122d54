// Draft 08's Active Subscriptions (--subscriptions-format draft, the default, and both): subscription
// events on /.well-known/mercure/subscriptions/{match_type}/{match}/{subscriber} with
// the SSE type `mercure` and a plain JSON body, and the subscriptions API at the same
// paths (application/json, the cursor on the Link, 403 without a grant on the path).
// Real HTTP, a real EventSource; expected topics are written out by hand.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import type { Herald } from '../src/herald.js';
import { hubUrl, publish, publisherToken, startTestHerald, SUBSCRIBER_KEY, subscriberToken } from './support/herald.js';
import { collect, type CollectedStream, type ReceivedEvent } from './support/stream.js';

const SUBS = '/.well-known/mercure/subscriptions';
const DETAIL = 'https://mercure.rocks/authorization-detail';

interface Doc {
  id: string;
  type: string;
  match_type: string;
  match: string;
  subscriber: string;
  active: boolean;
  payload?: unknown;
}

/** A draft access token (typ at+jwt) whose one detail grants `subscribe` on these matchers. */
function draftSubscriberToken(herald: Herald, topics: ReadonlyArray<{ match: string; match_type?: string }>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: 'https://app.example', aud: `${herald.hub.url}/.well-known/mercure`, sub: 'watcher', iat: now, exp: now + 300, authorization_details: [{ type: DETAIL, actions: ['subscribe'], topics }] };
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(new TextEncoder().encode(SUBSCRIBER_KEY));
}

/** Every stream a test opens, closed after it even when an assertion failed (an open stream would hold the server's close up). */
const toClose: CollectedStream[] = [];
afterEach(() => {
  for (const stream of toClose.splice(0)) stream.close();
});
function listen(...args: Parameters<typeof collect>): CollectedStream {
  const stream = collect(...args);
  toClose.push(stream);
  return stream;
}

const docOf = (event: ReceivedEvent) => JSON.parse(event.data) as Doc;

/** Waits until `done` holds for the events received so far (a watcher also sees its own subscriptions' events). */
async function until(stream: CollectedStream, done: (events: readonly ReceivedEvent[]) => boolean): Promise<ReceivedEvent[]> {
  while (!done(stream.events)) await stream.waitFor(stream.events.length + 1);
  return [...stream.events];
}
const matchOf = (event: ReceivedEvent): string | undefined => {
  if (!event.data.startsWith('{')) return undefined;
  const value = JSON.parse(event.data) as { match?: string; topic?: string };
  return value.match ?? value.topic;
};
const get = (herald: Herald, path: string, token?: string, headers: Record<string, string> = {}) =>
  fetch(`${herald.url}${path}`, { headers: { ...headers, ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }) } });

/** The Link's parameters, parsed the way RFC 8288 quotes them. */
function linkParams(link: string | null): Record<string, string> {
  assert.ok(link !== null, 'a Link header');
  const [target, ...rest] = link.split(/;\s*(?=[a-z-]+=)/);
  const params: Record<string, string> = { target: target!.trim() };
  for (const part of rest) {
    const [, name, value] = /^([a-z-]+)="((?:[^"\\]|\\.)*)"$/.exec(part.trim()) ?? [];
    assert.ok(name !== undefined && value !== undefined, `a quoted parameter: ${part}`);
    params[name] = value.replace(/\\(.)/g, '$1');
  }
  return params;
}

describe('subscription events, draft shape', () => {
  let herald: Herald;
  let watcherToken: string;
  before(async () => {
    herald = await startTestHerald({ subscriptionsFormat: 'draft', corsOrigins: ['http://app.example'] });
    watcherToken = await draftSubscriberToken(herald, [{ match: `${SUBS}/*`, match_type: 'urlpattern' }, { match: 'urn:marker' }]);
  });
  after(() => herald.close());

  test('one event of type mercure per matcher, on the draft topic, each variable encoded exactly once, then the API agrees', async () => {
    const watcher = listen(hubUrl(herald.url, [['match_urlpattern', `${SUBS}/*`], ['match', 'urn:marker']]), { token: watcherToken, eventTypes: ['mercure'] });
    await watcher.opened;
    // `%` and a space in the exact topic: encoded once (%25, %20), never left as they were or encoded twice.
    const exact = 'https://example.com/a topic?x=%41';
    const pattern = 'https://example.com/:selector';
    const alice = listen(hubUrl(herald.url, [['match', exact], ['match_urlpattern', pattern], ['match', exact]]), { token: await subscriberToken([exact], { name: 'alice' }) });
    await alice.opened;
    // Nothing else is announced (no 0.x twin): every event before the marker published next is of type mercure.
    const about = (e: ReceivedEvent) => e.type === 'mercure' && (matchOf(e) === exact || matchOf(e) === pattern);
    await until(watcher, (events) => events.filter(about).length >= 2);
    await publish(herald.url, { topic: 'urn:marker', data: 'marker' }, await publisherToken());
    const seen = await until(watcher, (events) => events.some((e) => e.data === 'marker'));
    const marker = seen.at(-1)!;
    assert.deepEqual([marker.type, marker.data], ['message', 'marker']);
    assert.deepEqual(seen.slice(0, -1).map((e) => e.type), seen.slice(0, -1).map(() => 'mercure'));
    // The watcher's own two matchers, and alice's two (the duplicate `match` is one subscription, not two).
    assert.equal(seen.length - 1, 4, JSON.stringify(seen.map(matchOf)));
    const joins = seen.filter(about).map((event) => ({ type: event.type, id: event.id, doc: docOf(event) }));
    const subscriber = joins[0]!.doc.subscriber;
    assert.match(subscriber, /^urn:uuid:[0-9a-f-]{36}$/);
    const encodedSubscriber = `urn%3Auuid%3A${subscriber.slice('urn:uuid:'.length)}`;
    const exactId = `${SUBS}/exact/https%3A%2F%2Fexample.com%2Fa%20topic%3Fx%3D%2541/${encodedSubscriber}`;
    const patternId = `${SUBS}/urlpattern/https%3A%2F%2Fexample.com%2F%3Aselector/${encodedSubscriber}`;
    const byId = new Map(joins.map((j) => [j.doc.id, j.doc]));
    assert.deepEqual([...byId.keys()].sort(), [exactId, patternId].sort());
    assert.deepEqual(byId.get(exactId), { id: exactId, type: 'subscription', match_type: 'exact', match: exact, subscriber, active: true, payload: { name: 'alice' } });
    assert.deepEqual(byId.get(patternId), { id: patternId, type: 'subscription', match_type: 'urlpattern', match: pattern, subscriber, active: true, payload: { name: 'alice' } });
    assert.match(joins[0]!.id, /^urn:uuid:/);
    assert.notEqual(joins[0]!.id, joins[1]!.id);
    assert.notEqual(docOf(seen.find((e) => !about(e))!).subscriber, subscriber, 'the watcher is another subscriber');

    // The API: the single resource is the event's document, byte for byte the same fields.
    // Another spelling of the same path (unreserved characters encoded, lower-case hex) is the same resource.
    const respelled = await get(herald, exactId.replace('/.well-known/', '/%2ewell-known/').replace('%3A', '%3a'), watcherToken);
    assert.equal(respelled.status, 200);
    assert.deepEqual(await respelled.json(), byId.get(exactId));
    const one = await get(herald, exactId, watcherToken);
    assert.equal(one.status, 200);
    assert.equal(one.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await one.json(), byId.get(exactId));
    const link = linkParams(one.headers.get('link'));
    assert.deepEqual(link, { target: `<${herald.hub.url}/.well-known/mercure>`, rel: 'mercure', 'last-event-id': marker.id, type: 'mercure', 'content-type': 'application/json' });

    const perMatcher = await get(herald, `${SUBS}/urlpattern/https%3A%2F%2Fexample.com%2F%3Aselector`, watcherToken);
    assert.equal(perMatcher.status, 200);
    assert.deepEqual(await perMatcher.json(), { id: `${SUBS}/urlpattern/https%3A%2F%2Fexample.com%2F%3Aselector`, type: 'subscriptions', subscriptions: [byId.get(patternId)] });

    alice.close();
    const leaves = (await until(watcher, (events) => events.filter(about).length >= 4)).filter(about).slice(2);
    assert.deepEqual(leaves.map((e) => e.type), ['mercure', 'mercure']);
    assert.deepEqual(leaves.map((e) => docOf(e)).sort((a, b) => a.id.localeCompare(b.id)), [byId.get(exactId)!, byId.get(patternId)!].map((d) => ({ ...d, active: false })).sort((a, b) => a.id.localeCompare(b.id)));
    assert.equal((await get(herald, exactId, watcherToken)).status, 404, 'an ended subscription is gone');
    watcher.close();
  });

  test('the subscriber id is unique per connection, even for one token', async () => {
    const watcher = listen(hubUrl(herald.url, [['match_urlpattern', `${SUBS}/exact/urn%3Atabs/*`]]), { token: watcherToken, eventTypes: ['mercure'] });
    await watcher.opened;
    const token = await subscriberToken(['urn:tabs']);
    const tabs = [listen(hubUrl(herald.url, [['match', 'urn:tabs']]), { token }), listen(hubUrl(herald.url, [['match', 'urn:tabs']]), { token })];
    await Promise.all(tabs.map((tab) => tab.opened));
    const events = await watcher.waitFor(2);
    const subscribers = events.map((e) => docOf(e).subscriber);
    assert.equal(new Set(subscribers).size, 2);
    for (const tab of tabs) tab.close();
    watcher.close();
  });

  test('the collection: application/json, type subscriptions, no cursor in the body, the cursor on the Link (quoted), Link exposed to CORS', async () => {
    const watcher = listen(hubUrl(herald.url, [['match_urlpattern', `${SUBS}/exact/urn%3Alisted/*`], ['match', 'urn:odd']]), { token: await draftSubscriberToken(herald, [{ match: '*' }]), eventTypes: ['mercure'] });
    await watcher.opened;
    const sub = listen(hubUrl(herald.url, [['match', 'urn:listed']]));
    await sub.opened;
    await watcher.waitFor(1);
    // An id with a quote and a backslash: the Link's quoted-string escapes them.
    const odd = 'odd"id\\1';
    assert.equal((await publish(herald.url, { topic: 'urn:odd', data: 'x', id: odd }, await publisherToken())).status, 200);
    await watcher.waitFor(2);
    const token = await subscriberToken([SUBS]);
    const reply = await get(herald, `${SUBS}?page=2`, token, { Origin: 'http://app.example' });
    assert.equal(reply.status, 200, 'the query is not part of the authorized topic');
    assert.equal(reply.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.match(reply.headers.get('access-control-expose-headers') ?? '', /(^|, *)Link(,|$)/);
    assert.match(reply.headers.get('link') ?? '', /; last-event-id="odd\\"id\\\\1"; /);
    assert.equal(linkParams(reply.headers.get('link'))['last-event-id'], odd);
    const body = (await reply.json()) as { id: string; type: string; subscriptions: Doc[]; lastEventID?: string };
    assert.equal(body.id, SUBS);
    assert.equal(body.type, 'subscriptions');
    assert.equal(body.lastEventID, undefined);
    assert.equal(body.subscriptions.filter((s) => s.match === 'urn:listed' && s.match_type === 'exact' && s.active && s.type === 'subscription').length, 1);
    sub.close();
    watcher.close();
  });

  test('403 without a subscribe grant on the requested path, 401 without a token, 404 for what does not exist', async () => {
    const narrow = await subscriberToken([`${SUBS}/exact/urn%3Amine/{subscriber}`]);
    for (const path of [SUBS, `${SUBS}/exact/urn%3Amine`, `${SUBS}/exact/urn%3Aother/urn%3Auuid%3Ax`]) {
      const reply = await get(herald, path, narrow);
      assert.equal(reply.status, 403, path);
      // resource_metadata: every Bearer challenge names the protected resource metadata (RFC 9728).
      assert.match(reply.headers.get('www-authenticate') ?? '', /^Bearer error="insufficient_scope", resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/\.well-known\/mercure"$/);
      assert.equal(((await reply.json()) as { error: string }).error, 'forbidden');
    }
    const mine = await get(herald, `${SUBS}/exact/urn%3Amine/urn%3Auuid%3Anobody`, narrow);
    assert.equal(mine.status, 404, 'granted, but no such subscription');
    assert.equal(((await mine.json()) as { error: string }).error, 'not_found');
    assert.equal((await get(herald, SUBS)).status, 401);
    // The 0.x shapes are not served in draft format: one segment, and a first segment that names no matcher type.
    assert.equal((await get(herald, `${SUBS}/urn%3Amine`, watcherToken)).status, 404);
    assert.equal((await get(herald, `${SUBS}/urn%3Amine/urn%3Auuid%3Ax`, watcherToken)).status, 404);
    assert.equal((await get(herald, `${SUBS}/Exact/urn%3Amine/urn%3Auuid%3Ax`, watcherToken)).status, 404, 'matcher type names are case-sensitive');
    assert.equal((await get(herald, `${SUBS}/exact/%E0%A4%A/x`, watcherToken)).status, 400);
  });

  test('subscription events are private: a watcher without a grant sees none, only the public marker', async () => {
    const snoop = listen(hubUrl(herald.url, [['match_urlpattern', `${SUBS}/*`], ['match', 'urn:public-marker']]), { eventTypes: ['mercure'] });
    await snoop.opened;
    const watcher = listen(hubUrl(herald.url, [['match_urlpattern', `${SUBS}/exact/urn%3Asecret/*`]]), { token: watcherToken, eventTypes: ['mercure'] });
    await watcher.opened;
    const someone = listen(hubUrl(herald.url, [['match', 'urn:secret']]));
    await someone.opened;
    await watcher.waitFor(1);
    someone.close();
    await watcher.waitFor(2);
    await publish(herald.url, { topic: 'urn:public-marker', data: 'public' }, await publisherToken());
    const [only] = await snoop.waitFor(1);
    assert.deepEqual([only!.type, only!.data, snoop.events.length], ['message', 'public', 1]);
    snoop.close();
    watcher.close();
  });

  test('publishers cannot forge a subscription event: type mercure and the reserved path are refused', async () => {
    const token = await publisherToken();
    const forged = await publish(herald.url, { topic: 'urn:x', type: 'mercure', data: '{}' }, token);
    assert.equal(forged.status, 400);
    const onPath = await publish(herald.url, { topic: `${SUBS}/exact/urn%3Ax/urn%3Auuid%3Ay`, data: '{}' }, token);
    assert.equal(onPath.status, 400);
  });
});

describe('subscription events, both shapes', () => {
  let herald: Herald;
  let watcherToken: string;
  before(async () => {
    herald = await startTestHerald({ subscriptionsFormat: 'both' });
    watcherToken = await subscriberToken([`${SUBS}/{a}/{b}`, `${SUBS}/{a}/{b}/{c}`, SUBS]);
  });
  after(() => herald.close());

  test('each change is two events: the draft one (type mercure) and the 0.x one (type message)', async () => {
    const watcher = listen(hubUrl(herald.url, [['topic', `${SUBS}/{a}/{b}`], ['topic', `${SUBS}/{a}/{b}/{c}`]]), { token: watcherToken, eventTypes: ['mercure'] });
    await watcher.opened;
    const bob = listen(hubUrl(herald.url, [['topic', 'urn:room']]), { token: await subscriberToken([], { name: 'bob' }) });
    await bob.opened;
    const events = (await until(watcher, (all) => all.filter((e) => matchOf(e) === 'urn:room').length >= 2)).filter((e) => matchOf(e) === 'urn:room');
    assert.equal(events.length, 2);
    const draft = events.find((e) => e.type === 'mercure');
    const legacy = events.find((e) => e.type === 'message');
    assert.ok(draft !== undefined && legacy !== undefined, JSON.stringify(events));
    const subscriber = docOf(draft).subscriber;
    const enc = encodeURIComponent(subscriber);
    assert.deepEqual(docOf(draft), { id: `${SUBS}/exact/urn%3Aroom/${enc}`, type: 'subscription', match_type: 'exact', match: 'urn:room', subscriber, active: true, payload: { name: 'bob' } });
    assert.deepEqual(JSON.parse(legacy.data), { '@context': 'https://mercure.rocks/', id: `${SUBS}/urn%3Aroom/${enc}`, type: 'Subscription', topic: 'urn:room', subscriber, active: true, payload: { name: 'bob' } });

    // The API in both shapes: the bare collection is the draft's unless JSON-LD is asked for.
    const draftList = await get(herald, SUBS, watcherToken);
    assert.equal(draftList.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(((await draftList.json()) as { type: string }).type, 'subscriptions');
    const legacyList = await get(herald, SUBS, watcherToken, { Accept: 'application/ld+json' });
    assert.equal(legacyList.headers.get('content-type'), 'application/ld+json; charset=utf-8');
    const legacyBody = (await legacyList.json()) as { type: string; lastEventID: string; subscriptions: Array<{ id: string; topic: string }> };
    assert.equal(legacyBody.type, 'Subscriptions');
    assert.ok(legacyBody.lastEventID !== '');
    assert.deepEqual(legacyBody.subscriptions.filter((s) => s.topic === 'urn:room').map((s) => s.id), [`${SUBS}/urn%3Aroom/${enc}`]);
    // The 0.x single resource (first segment names no matcher type) and the draft one.
    assert.equal(((await (await get(herald, `${SUBS}/urn%3Aroom/${enc}`, watcherToken)).json()) as { type: string }).type, 'Subscription');
    assert.equal(((await (await get(herald, `${SUBS}/exact/urn%3Aroom/${enc}`, watcherToken)).json()) as { type: string }).type, 'subscription');
    bob.close();
    const ends = (await until(watcher, (all) => all.filter((e) => matchOf(e) === 'urn:room').length >= 4)).filter((e) => matchOf(e) === 'urn:room').slice(2);
    assert.deepEqual(ends.map((e) => [e.type, (JSON.parse(e.data) as Doc).active]).sort(), [['mercure', false], ['message', false]]);
    watcher.close();
  });

  test('a 0.x topic literally named like a matcher type: its two-segment path is the draft per-matcher collection', async () => {
    const carol = listen(hubUrl(herald.url, [['topic', 'exact']]));
    await carol.opened;
    const list = (await (await get(herald, SUBS, watcherToken)).json()) as { subscriptions: Doc[] };
    const mine = list.subscriptions.find((s) => s.match === 'exact');
    assert.ok(mine !== undefined);
    const reply = await get(herald, `${SUBS}/exact/${encodeURIComponent(mine.subscriber)}`, watcherToken);
    assert.equal(reply.status, 200);
    assert.deepEqual(await reply.json(), { id: `${SUBS}/exact/${encodeURIComponent(mine.subscriber)}`, type: 'subscriptions', subscriptions: [] });
    // Still reachable in the 0.x shape through its topic's collection (one segment).
    const byTopic = (await (await get(herald, `${SUBS}/exact`, watcherToken)).json()) as { type: string; subscriptions: Array<{ subscriber: string }> };
    assert.deepEqual([byTopic.type, byTopic.subscriptions.map((s) => s.subscriber)], ['Subscriptions', [mine.subscriber]]);
    carol.close();
  });
});
