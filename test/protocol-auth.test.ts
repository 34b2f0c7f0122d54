// Current-draft (draft-dunglas-mercure-08) authorization: JWT access tokens (header typ
// at+jwt) with aud, iss and exp checked, and authorization_details of type
// https://mercure.rocks/authorization-detail with `actions` (unknown ones ignored) and
// `topics` as a matcher list. Tokens without typ at+jwt keep the 0.x rules. Real HTTP.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { hubUrl, PUBLISHER_KEY, publish, SUBSCRIBER_KEY, withHerald } from './support/herald.js';
import { collect } from './support/stream.js';

const DETAIL = 'https://mercure.rocks/authorization-detail';
const ISSUER = 'https://app.example';

interface Minted {
  readonly claims: Record<string, unknown>;
  readonly typ?: string;
  readonly key?: string;
  /** Omit these registered claims. */
  readonly without?: ReadonlyArray<'iss' | 'aud' | 'exp'>;
}

/** A token as the draft describes it: typ at+jwt, iss, aud (the hub URL), sub, client_id, iat, exp, jti. */
function accessToken(audience: string, { claims, typ = 'at+jwt', key = PUBLISHER_KEY, without = [] }: Minted): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const registered: Record<string, unknown> = { iss: ISSUER, aud: audience, exp: now + 300, sub: 'urn:uuid:sub', client_id: ISSUER, iat: now, jti: `urn:uuid:${now}-${Math.random()}` };
  for (const name of without) delete registered[name];
  return new SignJWT({ ...registered, ...claims }).setProtectedHeader({ alg: 'HS256', typ }).sign(new TextEncoder().encode(key));
}

const detail = (actions: unknown[], topics: unknown[]) => ({ authorization_details: [{ type: DETAIL, actions, topics }] });
const errorOf = (body: string) => JSON.parse(body) as { error: string; message: string };

describe('draft 08 access tokens', () => {
  test('a current-draft publisher token publishes (exact and urlpattern matchers; unknown actions ignored)', async () => {
    await withHerald({ store: 'memory' }, async (herald) => {
      const aud = `${herald.hub.url}/.well-known/mercure`;
      const token = await accessToken(aud, {
        claims: detail(['publish', 'archive-in-the-future'], [{ match: 'https://example.com/books/1' }, { match: 'https://example.com/authors/:id', match_type: 'urlpattern' }]),
      });
      const exact = await publish(herald.url, { topic: 'https://example.com/books/1', data: 'x' }, token);
      assert.equal(exact.status, 200, exact.body);
      assert.match(exact.body, /^urn:uuid:/);
      assert.equal((await publish(herald.url, { topic: 'https://example.com/authors/7' }, token)).status, 200);
      const outside = await publish(herald.url, { topic: 'https://example.com/books/2' }, token);
      assert.equal(outside.status, 403, 'a valid token that does not grant the topic: 403');
      assert.match(outside.headers.get('www-authenticate') ?? '', /^Bearer error="insufficient_scope", resource_metadata="[^"]+"$/);
      // Every topic must be granted, alternate ones too.
      assert.equal((await publish(herald.url, [['topic', 'https://example.com/books/1'], ['topic', 'https://example.com/other']], token)).status, 403);
    });
  });

  test('aud must name the hub; application/at+jwt is the same type; aud may be an array', async () => {
    await withHerald({ store: 'memory' }, async (herald) => {
      const aud = `${herald.hub.url}/.well-known/mercure`;
      const claims = detail(['publish'], [{ match: '*' }]);
      const topic = { topic: 'https://example.com/aud' };
      assert.equal((await publish(herald.url, topic, await accessToken(aud, { claims, typ: 'application/AT+JWT' }))).status, 200);
      assert.equal((await publish(herald.url, topic, await accessToken(aud, { claims: { ...claims, aud: ['https://other.example', aud] } }))).status, 200);
      for (const [what, token] of [
        ['another hub in aud', await accessToken('https://other-hub.example/.well-known/mercure', { claims })],
        ['no aud', await accessToken(aud, { claims, without: ['aud'] })],
        ['no exp', await accessToken(aud, { claims, without: ['exp'] })],
        ['no iss', await accessToken(aud, { claims, without: ['iss'] })],
      ] as const) {
        const refused = await publish(herald.url, topic, token);
        assert.equal(refused.status, 401, what);
        assert.equal(errorOf(refused.body).error, 'unauthorized', what);
        assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token", resource_metadata="[^"]+"$/, what);
      }
    });
  });

  test('--jwt-issuer and --jwt-audience: iss must match exactly, aud must name the configured identifier', async () => {
    await withHerald({ store: 'memory', jwtIssuer: ISSUER, jwtAudience: 'urn:herald:test' }, async (herald) => {
      const claims = detail(['publish'], [{ match: '*' }]);
      const topic = { topic: 'https://example.com/iss' };
      assert.equal((await publish(herald.url, topic, await accessToken('urn:herald:test', { claims }))).status, 200);
      assert.equal((await publish(herald.url, topic, await accessToken('urn:herald:test', { claims: { ...claims, iss: 'https://evil.example' } }))).status, 401);
      assert.equal((await publish(herald.url, topic, await accessToken(`${herald.hub.url}/.well-known/mercure`, { claims }))).status, 401, 'the default audience no longer applies');
    });
  });

  test('a detail with no known action grants nothing; malformed details reject the whole token (401 invalid_token)', async () => {
    await withHerald({ store: 'memory' }, async (herald) => {
      const aud = `${herald.hub.url}/.well-known/mercure`;
      const topic = { topic: 'https://example.com/x' };
      const nothing = await publish(herald.url, topic, await accessToken(aud, { claims: detail(['read-later'], [{ match: '*' }]) }));
      assert.equal(nothing.status, 403);
      for (const [what, claims] of [
        ['unknown match_type', detail(['publish'], [{ match: '*', match_type: 'regex' }])],
        ['match_type in the wrong case', detail(['publish'], [{ match: 'https://example.com/x', match_type: 'Exact' }])],
        ['a non-string action', detail(['publish', 7], [{ match: '*' }])],
        ['empty actions', detail([], [{ match: '*' }])],
        ['a topic that is not an object', detail(['publish'], ['https://example.com/x'])],
        ['an invalid URL pattern', detail(['publish'], [{ match: 'https://example.com/(', match_type: 'urlpattern' }])],
        ['a valid detail beside a broken one', { authorization_details: [{ type: DETAIL, actions: ['publish'], topics: [{ match: '*' }] }, { type: DETAIL, actions: ['publish'], topics: [] }] }],
      ] as const) {
        const refused = await publish(herald.url, topic, await accessToken(aud, { claims }));
        assert.equal(refused.status, 401, what);
        assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token", resource_metadata="[^"]+"$/, what);
      }
    });
  });

  test('tokens without typ at+jwt keep the 0.x rules: no aud, iss or exp needed, and the new detail type works there too', async () => {
    await withHerald({ store: 'memory', jwtIssuer: ISSUER }, async (herald) => {
      const topic = { topic: 'https://example.com/legacy' };
      const legacy = await new SignJWT({ mercure: { publish: ['*'] } }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(PUBLISHER_KEY));
      assert.equal((await publish(herald.url, topic, legacy)).status, 200);
      const older = await new SignJWT({ authorization_details: [{ type: 'mercure', actions: ['publish'], topics: [{ match: '*' }] }] }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(PUBLISHER_KEY));
      assert.equal((await publish(herald.url, topic, older)).status, 200);
      const current = await new SignJWT(detail(['publish'], [{ match: '*' }])).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(PUBLISHER_KEY));
      assert.equal((await publish(herald.url, topic, current)).status, 200);
    });
  });

  test('a current-draft subscriber token reads the private updates its subscribe detail grants, and no others', async () => {
    await withHerald({ store: 'memory' }, async (herald) => {
      const aud = `${herald.hub.url}/.well-known/mercure`;
      const subscriber = await accessToken(aud, { key: SUBSCRIBER_KEY, claims: detail(['subscribe'], [{ match: 'https://example.com/books/:id', match_type: 'urlpattern' }]) });
      const publisher = await accessToken(aud, { claims: detail(['publish'], [{ match: '*' }]) });
      const stream = collect(hubUrl(herald.url, [['match', 'https://example.com/books/1'], ['match', 'https://example.com/secret']]), { token: subscriber });
      try {
        await stream.opened;
        assert.equal((await publish(herald.url, { topic: 'https://example.com/secret', data: 'no', private: 'on' }, publisher)).status, 200);
        assert.equal((await publish(herald.url, { topic: 'https://example.com/books/1', data: 'yes', private: 'on' }, publisher)).status, 200);
        const [first] = await stream.waitFor(1);
        assert.equal(first!.data, 'yes');
        assert.equal(stream.events.length, 1);
      } finally {
        stream.close();
      }
    });
  });

  test('the draft\'s cookie __Secure-mercure_access_token carries a subscriber token; an Authorization header wins over it', async () => {
    await withHerald({ store: 'memory', anonymous: false }, async (herald) => {
      const aud = `${herald.hub.url}/.well-known/mercure`;
      const token = await accessToken(aud, { key: SUBSCRIBER_KEY, claims: detail(['subscribe'], [{ match: '*' }]) });
      const url = hubUrl(herald.url, [['match', 'https://example.com/cookie']]);
      assert.equal((await fetch(url)).status, 401);
      const withCookie = await fetch(url, { headers: { Cookie: `__Secure-mercure_access_token=${token}` } });
      assert.equal(withCookie.status, 200);
      await withCookie.body?.cancel();
      // The header is used (a token that is no JWT: 400 invalid_request), the valid cookie ignored.
      const headerWins = await fetch(url, { headers: { Cookie: `__Secure-mercure_access_token=${token}`, Authorization: 'Bearer not.a.token' } });
      assert.equal(headerWins.status, 400);
      assert.match(headerWins.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_request", resource_metadata="[^"]+"$/);
      await headerWins.body?.cancel();
    });
  });
});
