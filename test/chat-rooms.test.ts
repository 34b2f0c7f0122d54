// The chat's read side over real HTTP: rooms with online counts and the people in a
// room (from the hub's subscription records), and history pages for "load earlier".
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { presenceSelector, roomTopic, type ChatMessage, type HistoryPage, type RoomList, type RoomUsers } from '../src/chat/protocol.js';
import type { Herald } from '../src/herald.js';
import { ChatClient, waitForEvent } from './chat-client.js';
import { hubUrl, startTestHerald } from './support/herald.js';
import { collect, type CollectedStream } from './support/stream.js';

// The chat follows the hub's --subscriptions-format: the draft's events (type mercure, `match`) or the 0.x ones (`topic`).
for (const format of ['0.x', 'draft', 'both'] as const) describe(`rooms and who is online (--subscriptions-format ${format})`, () => {
  let herald: Herald;
  const streams: CollectedStream[] = [];
  before(async () => (herald = await startTestHerald({ subscriptionsFormat: format })));
  after(async () => {
    for (const stream of streams) stream.close();
    await herald.close();
  });

  test('a person with two connections counts once; anonymous listeners do not count; lobby is always listed', async () => {
    const empty = await new ChatClient(herald.url, format).request<RoomList>('GET', '/api/rooms');
    assert.deepEqual(empty.body.rooms, [{ name: 'lobby', topic: roomTopic('lobby'), online: 0 }]);

    const watcher = new ChatClient(herald.url, format);
    await watcher.login('Watcher');
    // Only presence, not the room topic itself: the watcher is not in the rooms.
    const presence = collect(hubUrl(herald.url, [['topic', presenceSelector('lobby', format)], ['topic', presenceSelector('dev', format)]]), { headers: { Cookie: watcher.cookie! }, eventTypes: ['mercure'] });
    streams.push(presence);
    await presence.opened;
    const joins = new Map<string, number>();
    const joined = async (client: ChatClient, room: string, userId: string) => {
      const stream = client.stream(room);
      streams.push(stream);
      await stream.opened;
      const count = (joins.get(room + userId) ?? 0) + 1;
      joins.set(room + userId, count);
      // In the hub's shape only: with `both`, the page's selector is the draft's, so 0.x twins never reach it.
      const isJoin = (d: Record<string, unknown>) =>
        d.active === true && (format === '0.x' ? d.type === 'Subscription' && d.topic : d.type === 'subscription' && d.match_type === 'exact' && d.match) === roomTopic(room) && (d.payload as { userId?: string } | undefined)?.userId === userId;
      await waitForEvent(presence, isJoin, count);
    };
    const ann = new ChatClient(herald.url, format);
    const annUser = await ann.login('Ann');
    const bo = new ChatClient(herald.url, format);
    const boUser = await bo.login('Bo');
    await joined(ann, 'lobby', annUser.userId);
    await joined(ann, 'lobby', annUser.userId);
    await joined(bo, 'dev', boUser.userId);
    const anonymous = collect(hubUrl(herald.url, [['topic', roomTopic('dev')]]));
    streams.push(anonymous);
    await anonymous.opened;

    const rooms = await ann.request<RoomList>('GET', '/api/rooms');
    assert.equal(rooms.status, 200);
    assert.deepEqual(rooms.body.rooms.map((r) => [r.name, r.online]), [['dev', 1], ['lobby', 1]]);

    const lobby = await ann.request<RoomUsers>('GET', '/api/rooms/lobby/users');
    assert.deepEqual(lobby.body.users.map((u) => [u.userId, u.nickname, u.subscribers.length]), [[annUser.userId, 'Ann', 2]]);

    await joined(bo, 'lobby', boUser.userId);
    const after = await ann.request<RoomList>('GET', '/api/rooms');
    assert.deepEqual(after.body.rooms.map((r) => [r.name, r.online]), [['lobby', 2], ['dev', 1]]);
    const users = await ann.request<RoomUsers>('GET', '/api/rooms/lobby/users');
    assert.deepEqual(users.body.users.map((u) => u.nickname), ['Ann', 'Bo']);
    assert.equal((await ann.request('GET', '/api/rooms/Not%20A%20Room/users')).status, 400);
    // Every presence event the watcher got is of its hub's shape, and only that shape.
    const types = new Set(presence.events.map((e) => `${e.type} ${(JSON.parse(e.data) as { type: string }).type}`));
    assert.deepEqual([...types], [format === '0.x' ? 'message Subscription' : 'mercure subscription']);
    const page = await ann.request<HistoryPage>('GET', '/api/rooms/lobby/messages');
    assert.deepEqual(page.body.selectors, [roomTopic('lobby'), presenceSelector('lobby', format)]);
  });
});

describe('history', () => {
  let herald: Herald;
  let ann: ChatClient;
  const sent: ChatMessage[] = [];
  before(async () => {
    herald = await startTestHerald({ chatHistory: 5 });
    ann = new ChatClient(herald.url);
    await ann.login('Ann');
    // Two people, so that neither reaches the send rate limit (burst of 10).
    const bo = new ChatClient(herald.url);
    await bo.login('Bo');
    for (let i = 0; i < 8; i++) {
      const reply = await ann.send('paging', `m${i}`);
      assert.equal(reply.status, 201);
      sent.push(reply.body as unknown as ChatMessage);
      // Other rooms' messages are interleaved and must not leak into the page.
      assert.equal((await bo.send('elsewhere', `other ${i}`)).status, 201);
    }
  });
  after(() => herald.close());

  const page = (query: string) => ann.request<HistoryPage>('GET', `/api/rooms/paging/messages${query}`);

  test('the first page is the newest chat-history messages, oldest first, with the selectors to subscribe to', async () => {
    const first = await page('');
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.messages.map((m) => m.text), ['m3', 'm4', 'm5', 'm6', 'm7']);
    assert.deepEqual(first.body.messages, sent.slice(3));
    assert.equal(first.body.more, true);
    assert.deepEqual(first.body.selectors, [roomTopic('paging'), '/.well-known/mercure/subscriptions/exact/urn%3Aherald%3Achat%3Aroom%3Apaging/{subscriber}']);
  });

  test('before=<id> pages backwards until more is false', async () => {
    const second = await page(`?limit=2&before=${encodeURIComponent(sent[3]!.id)}`);
    assert.deepEqual(second.body.messages.map((m) => m.text), ['m1', 'm2']);
    assert.equal(second.body.more, true);
    const last = await page(`?limit=2&before=${encodeURIComponent(sent[1]!.id)}`);
    assert.deepEqual(last.body.messages.map((m) => m.text), ['m0']);
    assert.equal(last.body.more, false);
    const all = await page('?limit=500');
    assert.deepEqual(all.body.messages.map((m) => m.text), sent.map((m) => m.text));
    assert.equal(all.body.more, false);
  });

  test('bad paging parameters are 400, an unknown id 404, an empty room an empty page', async () => {
    for (const query of ['?limit=0', '?limit=501', '?limit=ten', '?before=']) {
      const reply = await page(query);
      assert.equal(reply.status, 400, query);
    }
    const unknown = await page('?before=urn:uuid:00000000-0000-0000-0000-000000000000');
    assert.equal(unknown.status, 404);
    const empty = await ann.request<HistoryPage>('GET', '/api/rooms/nobody-here/messages');
    assert.deepEqual([empty.body.messages, empty.body.more], [[], false]);
  });

  test('resuming a stream at lastEventID of a page delivers what came after, nothing before', async () => {
    const first = await page('');
    const stream = collect(hubUrl(herald.url, [['topic', roomTopic('paging')], ['lastEventID', first.body.lastEventID]]), { eventTypes: ['message'] });
    try {
      await stream.opened;
      const next = (await ann.send('paging', 'live')).body as unknown as ChatMessage;
      const [event] = await stream.waitFor(1);
      assert.equal(event!.id, next.id);
      assert.equal((JSON.parse(event!.data) as ChatMessage).text, 'live');
    } finally {
      stream.close();
    }
  });
});
