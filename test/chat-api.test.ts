// The chat API over real HTTP: the session cookie, validation (400/401/403/413/429
// with JSON bodies), publishing to the room topic, and the cookie as a subscriber token.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { chatApp } from '../src/chat/plugin.js';
import { roomTopic, type ChatMessage } from '../src/chat/protocol.js';
import { testConfig } from '../src/config.js';
import type { Herald } from '../src/herald.js';
import { buildServer } from '../src/http/server.js';
import { ChatClient, waitForEvent } from './chat-client.js';
import { startTestHerald, SUBSCRIBER_KEY } from './support/herald.js';

interface ErrorBody {
  error: string;
  message: string;
}

describe('chat sessions', () => {
  let herald: Herald;
  before(async () => (herald = await startTestHerald()));
  after(() => herald.close());

  test('POST /api/session sets an HttpOnly, SameSite=Strict, Path=/ cookie; Secure only over TLS', async () => {
    const client = new ChatClient(herald.url);
    const reply = await client.request<{ session: { userId: string; nickname: string }; limits: { maxTextLength: number } }>('POST', '/api/session', { nickname: '  Ann  ' });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.session.nickname, 'Ann');
    assert.match(reply.body.session.userId, /^[0-9a-f-]{36}$/);
    assert.equal(reply.body.limits.maxTextLength, 2000);
    const cookie = reply.headers.getSetCookie()[0]!;
    const flags = cookie.split(';').slice(1).map((f) => f.trim().toLowerCase());
    assert.ok(flags.includes('httponly'), cookie);
    assert.ok(flags.includes('samesite=strict'), cookie);
    assert.ok(flags.includes('path=/'), cookie);
    assert.ok(flags.includes(`max-age=${30 * 24 * 3600}`), cookie);
    assert.ok(!flags.includes('secure'), cookie);

    const proxied = await new ChatClient(herald.url).request('POST', '/api/session', { nickname: 'Bo' }, { 'X-Forwarded-Proto': 'https' });
    assert.ok(proxied.headers.getSetCookie()[0]!.split(';').map((f) => f.trim().toLowerCase()).includes('secure'));
  });

  test('GET /api/session reads the cookie; re-posting renames and keeps the userId; DELETE ends it', async () => {
    const client = new ChatClient(herald.url);
    assert.deepEqual((await client.request('GET', '/api/session')).body, { session: null, limits: { maxTextLength: 2000, maxNicknameLength: 32 } });
    const first = await client.login('Ann');
    assert.deepEqual((await client.request<{ session: unknown }>('GET', '/api/session')).body.session, first);
    const renamed = await client.login('Annie');
    assert.deepEqual(renamed, { userId: first.userId, nickname: 'Annie' });
    const other = await new ChatClient(herald.url).login('Ann');
    assert.notEqual(other.userId, first.userId, 'another browser is another person');
    const ended = await client.request('DELETE', '/api/session');
    assert.equal(ended.status, 204);
    assert.equal(client.cookie, undefined, 'the cookie was cleared');
    assert.equal((await client.request<{ session: unknown }>('GET', '/api/session')).body.session, null);
  });

  test('nicknames: 1 to 32 characters after trimming, no control characters', async () => {
    const client = new ChatClient(herald.url);
    for (const nickname of ['', '   ', 'x'.repeat(33), 'a\u0007b', 'a\nb', 'a\u202eb', 42, null]) {
      const reply = await client.request<ErrorBody>('POST', '/api/session', { nickname });
      assert.equal(reply.status, 400, JSON.stringify(nickname));
      assert.equal(reply.body.error, 'invalid_field');
      assert.match(reply.body.message, /nickname/);
    }
    assert.equal((await client.login('é'.repeat(32))).nickname, 'é'.repeat(32));
    assert.equal((await client.login('👩‍🚀 Zoë')).nickname, '👩‍🚀 Zoë');
  });

  test('a forged or foreign cookie is no session', async () => {
    const client = new ChatClient(herald.url);
    client.cookie = 'mercureAuthorization=not.a.jwt';
    assert.equal((await client.request<{ session: unknown }>('GET', '/api/session')).body.session, null);
    assert.equal((await client.send('lobby', 'hi')).status, 401);
  });

  test('the session cookie is the subscriber token: it receives its room presence (private) with the payload', async () => {
    const watcher = new ChatClient(herald.url);
    await watcher.login('Watcher');
    const stream = watcher.stream('cookie-room');
    try {
      await stream.opened;
      const self = await waitForEvent(stream, (d) => d.type === 'subscription' && d.active === true);
      assert.equal(self.match, roomTopic('cookie-room'));
      assert.equal(self.match_type, 'exact');
      assert.deepEqual((self.payload as { nickname: string }).nickname, 'Watcher');
      const ann = new ChatClient(herald.url);
      const annUser = await ann.login('Ann');
      const annStream = ann.stream('cookie-room');
      await annStream.opened;
      const joined = await waitForEvent(stream, (d) => (d.payload as { userId?: string } | undefined)?.userId === annUser.userId);
      assert.equal(joined.active, true);
      annStream.close();
      const left = await waitForEvent(stream, (d) => (d.payload as { userId?: string } | undefined)?.userId === annUser.userId && d.active === false);
      assert.equal(left.subscriber, joined.subscriber);
    } finally {
      stream.close();
    }
  });
});

describe('sending messages', () => {
  let herald: Herald;
  let ann: ChatClient;
  before(async () => {
    herald = await startTestHerald();
    ann = new ChatClient(herald.url);
    await ann.login('Ann');
  });
  after(() => herald.close());

  test('201 with the message, published on the room topic as event "message" with the same JSON and id', async () => {
    const reader = new ChatClient(herald.url).stream('general');
    try {
      await reader.opened;
      const reply = await ann.send('general', 'hello\r\nworld', 'c-1');
      assert.equal(reply.status, 201);
      const message = reply.body as unknown as ChatMessage;
      assert.equal(message.text, 'hello\nworld');
      assert.equal(message.room, 'general');
      assert.equal(message.nickname, 'Ann');
      assert.equal(message.clientId, 'c-1');
      assert.match(message.id, /^urn:uuid:/);
      assert.ok(Math.abs(Date.parse(message.sentAt) - Date.now()) < 10_000);
      const events = await reader.waitFor(1);
      const event = events.find((e) => e.type === 'message' && e.id === message.id);
      assert.ok(event, JSON.stringify(reader.events));
      assert.deepEqual(JSON.parse(event.data), message);
    } finally {
      reader.close();
    }
  });

  test('401 without a session, 400 for a bad room, empty text or bad clientId, 413 past the length', async () => {
    const anonymous = await new ChatClient(herald.url).send('lobby', 'hi');
    assert.equal(anonymous.status, 401);
    assert.equal((anonymous.body as unknown as ErrorBody).error, 'unauthorized');
    const cases: Array<[string, unknown, number, RegExp]> = [
      ['Bad Room', { text: 'x' }, 400, /Room names/],
      ['-dash', { text: 'x' }, 400, /Room names/],
      ['a'.repeat(33), { text: 'x' }, 400, /Room names/],
      ['lobby', { text: '' }, 400, /empty/],
      ['lobby', { text: ' \n\t ' }, 400, /empty/],
      ['lobby', {}, 400, /"text" is required/],
      ['lobby', { text: 'x', clientId: 'a b' }, 400, /clientId/],
      ['lobby', { text: 'x'.repeat(2001) }, 413, /2001 characters; the limit is 2000/],
    ];
    for (const [room, body, status, message] of cases) {
      const reply = await ann.request<ErrorBody>('POST', `/api/rooms/${encodeURIComponent(room)}/messages`, body);
      assert.equal(reply.status, status, `${room} ${JSON.stringify(body).slice(0, 40)}`);
      assert.match(reply.headers.get('content-type') ?? '', /application\/json/);
      assert.match(reply.body.message, message);
    }
    // The limit counts characters as people do: 2000 emoji are 4000 UTF-16 units, and allowed.
    assert.equal((await ann.send('lobby', '😀'.repeat(2000))).status, 201);
  });

  test('CSRF: writes need an Origin or Referer naming this server', async () => {
    const evil = await ann.request<ErrorBody>('POST', '/api/rooms/lobby/messages', { text: 'x' }, { Origin: 'http://evil.example' });
    assert.equal(evil.status, 403);
    assert.match(evil.body.message, /evil\.example/);
    assert.equal((await ann.request('POST', '/api/session', { nickname: 'Eve' }, { Origin: 'null' })).status, 403);
    assert.equal((await ann.request('DELETE', '/api/session', undefined, { Origin: 'https://evil.example' })).status, 403);
    // No Origin: the Referer decides.
    const cookie = ann.cookie!;
    const post = (headers: Record<string, string>) =>
      fetch(`${herald.url}/api/rooms/lobby/messages`, { method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'application/json', ...headers }, body: '{"text":"via referer"}' });
    assert.equal((await post({})).status, 403);
    assert.equal((await post({ Referer: 'http://evil.example/page' })).status, 403);
    assert.equal((await post({ Referer: `${herald.url}/#lobby` })).status, 201);
  });
});

describe('rate limit', () => {
  let herald: Herald;
  let chat: Awaited<ReturnType<typeof buildServer>>;
  let url: string;
  let time = 1_000_000;
  before(async () => {
    herald = await startTestHerald({ chat: false });
    // A chat server on the same hub whose limiter reads a clock the test moves.
    const config = testConfig({ chat: false });
    const apps = [chatApp({ hub: herald.hub, subscriberKey: SUBSCRIBER_KEY, settings: config, rateLimit: { now: () => time } })];
    chat = await buildServer({ config, hub: herald.hub, logger: pino({ level: 'silent' }), apps });
    url = await chat.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await chat.close();
    await herald.close();
  });

  test('10 at once pass, the 11th is 429 with Retry-After; one more passes 200 ms later; people are limited separately', async () => {
    const ann = new ChatClient(url);
    await ann.login('Ann');
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await ann.send('lobby', `m${i}`)).status);
    assert.deepEqual(statuses, [...Array(10).fill(201), 429]);
    const refused = await ann.send('lobby', 'again');
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal((refused.body as unknown as ErrorBody).error, 'rate_limited');
    const bo = new ChatClient(url);
    await bo.login('Bo');
    assert.equal((await bo.send('lobby', 'bo is not limited by ann')).status, 201);
    time += 200;
    assert.equal((await ann.send('lobby', 'after 200 ms')).status, 201);
    assert.equal((await ann.send('lobby', 'too soon')).status, 429);
    // Renaming does not reset the bucket: it is keyed by the person.
    await ann.login('Ann again');
    assert.equal((await ann.send('lobby', 'renamed')).status, 429);
  });
});
