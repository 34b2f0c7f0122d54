// How a token is presented (draft 08, "Presenting the Access Token" and "Error
// Responses"; RFC 6750): a malformed presentation is a 400 whose challenge says
// error="invalid_request", a token that parses but fails validation a 401
// invalid_token; access tokens never in URLs, 0.x tokens there only for 0.x clients
// (--no-query-tokens, --mercure-profile draft turn the query off). Real HTTP, both
// front doors on the hot routes, the Fastify route for the subscriptions API.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProtectedHeader, SignJWT } from 'jose';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config.js';
import type { Herald } from '../src/herald.js';
import { frontDoorOf } from '../src/http/server.js';
import { FRONT_DOORS, hubUrl, mintToken, publish, PUBLISHER_KEY, publisherToken, SUBSCRIBER_KEY, subscriberToken, withHerald } from './support/herald.js';
import { ChatClient, waitForEvent } from './chat-client.js';
import { rawExchange } from './support/raw-http.js';
import { collect } from './support/stream.js';

const DETAIL = 'https://mercure.rocks/authorization-detail';
const ISSUER = 'https://app.example';
const INVALID_REQUEST = 'Bearer error="invalid_request"';
const errorOf = (body: string) => JSON.parse(body) as { error: string; message: string };
const port = (herald: Herald) => (herald.app.server.address() as AddressInfo).port;

function accessToken(herald: Herald, actions: string[], key: string, extra: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISSUER, aud: `${herald.hub.url}/.well-known/mercure`, exp: now + 300, iat: now, sub: 'urn:x:s', client_id: ISSUER, jti: `j${Math.random()}`, authorization_details: [{ type: DETAIL, actions, topics: [{ match: '*' }] }], ...extra })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .sign(new TextEncoder().encode(key));
}

/** A GET of the hub's stream: the status, the challenge and the error code (the stream, if one opened, is cut). */
async function subscribeStatus(url: string, headers: Record<string, string> = {}): Promise<{ status: number; challenge: string | null; error: string | undefined }> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  const type = response.headers.get('content-type') ?? '';
  const error = type.startsWith('application/json') ? errorOf(await response.text()).error : undefined;
  controller.abort();
  return { status: response.status, challenge: response.headers.get('www-authenticate'), error };
}

function assertInvalidRequest(result: { status: number; challenge: string | null; error: string | undefined }, what: string): void {
  assert.equal(result.status, 400, what);
  assert.equal(result.error, 'invalid_request', what);
  assert.equal(result.challenge?.startsWith(INVALID_REQUEST), true, `${what}: ${String(result.challenge)}`);
}

for (const door of FRONT_DOORS) {
  describe(`token presentation (${door.name})`, () => {
    test('a malformed presentation is a 400 invalid_request, a bad token a 401 invalid_token, on publish and subscribe', async () => {
      await withHerald({ ...door.config }, async (herald) => {
        const served = frontDoorOf(herald.app)!.stats.served;
        const token = await publisherToken();
        const form = 'topic=https%3A%2F%2Fexample.com%2Fp';
        const post = (headers: Record<string, string>, query = '') =>
          fetch(`${herald.url}/.well-known/mercure${query}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body: form }).then(async (r) => ({
            status: r.status,
            challenge: r.headers.get('www-authenticate'),
            error: errorOf(await r.text()).error,
          }));
        for (const [what, headers, query] of [
          ['a Basic scheme', { Authorization: 'Basic dXNlcjpwYXNz' }, ''],
          ['Bearer without a token', { Authorization: 'Bearer ' }, ''],
          ['a token in the header and in the URL', { Authorization: `Bearer ${token}` }, `?authorization=${token}`],
          ['two token parameters', {}, `?authorization=${token}&access_token=${token}`],
          ['a token that is no JWT', { Authorization: 'Bearer not-a-jwt' }, ''],
          ['a JWT whose claims are no JSON', { Authorization: `Bearer ${token.split('.')[0]}.bm90LWpzb24.sig` }, ''],
        ] as const) {
          assertInvalidRequest(await post(headers, query), `publish: ${what}`);
          assertInvalidRequest(await subscribeStatus(hubUrl(herald.url, [['topic', 'x']]) + query.replace('?', '&'), headers), `subscribe: ${what}`);
        }
        // Two Authorization headers: only a raw request can send them (Node keeps the first in `headers`).
        for (const head of [
          `POST /.well-known/mercure HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: Bearer ${token}\r\nauthorization: Bearer ${token}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\n\r\n${form}`,
          `GET /.well-known/mercure?topic=x HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: Bearer ${token}\r\nAuthorization: Bearer ${token}\r\n\r\n`,
        ]) {
          const twice = await rawExchange(port(herald), { bytes: Buffer.from(head) });
          assert.equal(twice.status, 400, head.slice(0, 4));
          assert.equal(errorOf(twice.body).error, 'invalid_request');
          assert.match(twice.headers['www-authenticate'] ?? '', /^Bearer error="invalid_request"/);
        }
        // A well-formed token that fails validation stays a 401 invalid_token.
        const forged = await mintToken({ mercure: { publish: ['*'] } }, 'another-key-that-is-long-enough-0123456789');
        const refused = await post({ Authorization: `Bearer ${forged}` });
        assert.deepEqual([refused.status, refused.error], [401, 'unauthorized']);
        assert.match(refused.challenge ?? '', /^Bearer error="invalid_token"/);
        assert.ok(frontDoorOf(herald.app)!.stats.served > served, 'the front door served these');
      });
    });

    test('an access token (typ at+jwt) in the URL is refused with 400; a 0.x token there still subscribes', async () => {
      await withHerald({ ...door.config }, async (herald) => {
        const access = await accessToken(herald, ['subscribe'], SUBSCRIBER_KEY);
        for (const name of ['authorization', 'access_token']) {
          assertInvalidRequest(await subscribeStatus(hubUrl(herald.url, [['topic', 'https://example.com/q'], [name, access]])), `${name}=<access token>`);
        }
        // The same token in the header opens the stream.
        assert.equal((await subscribeStatus(hubUrl(herald.url, [['topic', 'https://example.com/q']]), { Authorization: `Bearer ${access}` })).status, 200);
        // A 0.x token in the URL: a private update arrives.
        const legacy = await subscriberToken(['https://example.com/q']);
        const stream = collect(hubUrl(herald.url, [['topic', 'https://example.com/q'], ['authorization', legacy]]));
        try {
          await stream.opened;
          const id = await publish(herald.url, { topic: 'https://example.com/q', data: 'secret', private: 'on' }, await publisherToken());
          assert.equal(id.status, 200);
          const [event] = await stream.waitFor(1);
          assert.deepEqual([event!.id, event!.data], [id.body, 'secret']);
        } finally {
          stream.close();
        }
      });
    });

    test('--no-query-tokens: a 0.x token in the URL is refused too, in the header it works', async () => {
      await withHerald({ queryTokens: false, ...door.config }, async (herald) => {
        const legacy = await subscriberToken(['https://example.com/q']);
        assertInvalidRequest(await subscribeStatus(hubUrl(herald.url, [['topic', 'x'], ['authorization', legacy]])), '0.x token in the URL');
        const publisher = await publisherToken();
        const post = await fetch(`${herald.url}/.well-known/mercure?access_token=${publisher}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'topic=x' });
        assert.equal(post.status, 400);
        assert.equal(errorOf(await post.text()).error, 'invalid_request');
        assert.equal((await subscribeStatus(hubUrl(herald.url, [['topic', 'x']]), { Authorization: `Bearer ${legacy}` })).status, 200);
      });
    });

    test('--mercure-profile draft: access tokens only (0.x tokens 401 invalid_token), never in the URL, iss checked', async () => {
      await withHerald({ mercureProfile: 'draft', jwtIssuer: ISSUER, queryTokens: true, ...door.config }, async (herald) => {
        const topic = { topic: 'https://example.com/draft' };
        const legacy = await publish(herald.url, topic, await publisherToken());
        assert.equal(legacy.status, 401, 'a 0.x token is refused');
        assert.equal(errorOf(legacy.body).error, 'unauthorized');
        assert.match(legacy.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
        assert.match(errorOf(legacy.body).message, /only JWT access tokens/);
        const access = await accessToken(herald, ['publish'], PUBLISHER_KEY);
        assert.equal((await publish(herald.url, topic, access)).status, 200);
        assert.equal((await publish(herald.url, topic, await accessToken(herald, ['publish'], PUBLISHER_KEY, { iss: 'https://other.example' }))).status, 401, 'another issuer');
        assert.equal((await publish(herald.url, topic, await accessToken(herald, ['publish'], PUBLISHER_KEY, { exp: undefined }))).status, 401, 'no exp');
        // Query tokens are off under the profile, whatever --query-tokens says, 0.x tokens included.
        const legacySubscriber = await subscriberToken(['*']);
        assertInvalidRequest(await subscribeStatus(hubUrl(herald.url, [['topic', 'x'], ['authorization', legacySubscriber]])), '0.x token in the URL under the profile');
        // Anonymous subscribers still get public updates.
        assert.equal((await subscribeStatus(hubUrl(herald.url, [['topic', 'x']]))).status, 200);
      });
    });
  });
}

describe('token presentation: the subscriptions API (Fastify route) and the configuration', () => {
  test('--mercure-profile draft with the chat: its session cookie is an access token the hub accepts for the room', async () => {
    await withHerald({ mercureProfile: 'draft', jwtIssuer: ISSUER, chat: true, subscriptions: true, anonymous: false }, async (herald) => {
      const chat = new ChatClient(herald.url);
      await chat.login('Ann');
      const header = decodeProtectedHeader(chat.cookie!.split('=')[1]!);
      assert.equal(header.typ, 'at+jwt');
      const stream = chat.stream('lobby');
      try {
        await stream.opened; // anonymous: false, so only the cookie's access token opens it
        const sent = await chat.send('lobby', 'hello');
        assert.equal(sent.status, 201, JSON.stringify(sent.body));
        await waitForEvent(stream, (data) => data.text === 'hello');
      } finally {
        stream.close();
      }
    });
  });

  test('the subscriptions API answers a malformed presentation with 400 invalid_request', async () => {
    await withHerald({ subscriptions: true }, async (herald) => {
      const response = await fetch(`${herald.url}/.well-known/mercure/subscriptions`, { headers: { Authorization: 'Token abc' } });
      assert.equal(response.status, 400);
      assert.equal(response.headers.get('www-authenticate')?.startsWith(INVALID_REQUEST), true);
      assert.equal(errorOf(await response.text()).error, 'invalid_request');
    });
  });

  test('--mercure-profile draft needs a trusted issuer, and --jwt-issuer for the chat', () => {
    assert.throws(() => loadConfig(['--mercure-profile', 'draft', '--no-chat'], {}), /--mercure-profile draft needs --jwt-issuer/);
    assert.throws(() => loadConfig(['--mercure-profile', 'draft', '--jwt-issuers-file', '/x.json'], {}), /with the chat needs --jwt-issuer/);
    assert.equal(loadConfig(['--mercure-profile', 'draft', '--jwt-issuer', ISSUER], {}).mercureProfile, 'draft');
    assert.equal(loadConfig(['--mercure-profile', 'draft', '--jwt-issuers-file', '/x.json', '--no-chat'], {}).mercureProfile, 'draft');
    assert.throws(() => loadConfig(['--mercure-profile', 'strict'], {}), /one of compat, draft/);
  });
});
