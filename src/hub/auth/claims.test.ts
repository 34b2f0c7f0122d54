import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, type JWTPayload } from 'jose';
import { HeraldError } from '../../errors.js';
import { canPublish, canReceive, createAuthenticator, payloadFor, type Authenticator } from './authenticator.js';

const HUB = 'https://hub.example/.well-known/mercure';
const SECRET = 'claims-test-secret-claims-test-secret';

let auth: Authenticator;

before(async () => {
  auth = await createAuthenticator({ publisherKey: SECRET, algorithm: 'HS256', hubUrl: HUB });
});

async function claimsOf(payload: JWTPayload) {
  const token = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
  return auth.verify(token, 'subscriber');
}

describe('Mercure 0.x claims', () => {
  it('reads publish and subscribe selectors (exact, *, URI templates) and the payload', async () => {
    const claims = await claimsOf({
      mercure: { publish: ['https://example.com/books/{id}', 'https://example.com/authors/1'], subscribe: ['https://example.com/users/alice/{+rest}'], payload: { user: 'alice', roles: ['a'] } },
    });
    assert.equal(canPublish(claims, ['https://example.com/books/1']), true);
    assert.equal(canPublish(claims, ['https://example.com/books/1', 'https://example.com/authors/1']), true);
    assert.equal(canPublish(claims, ['https://example.com/books/1', 'https://example.com/authors/2']), false, 'every topic must be covered');
    assert.equal(canPublish(claims, []), false);
    assert.equal(canReceive(claims, ['https://example.com/users/bob/x', 'https://example.com/users/alice/inbox/1']), true);
    assert.equal(canReceive(claims, ['https://example.com/users/bob/x']), false);
    assert.deepEqual(claims.payload, { user: 'alice', roles: ['a'] });
    assert.deepEqual(payloadFor(claims, 'https://example.com/anything'), { user: 'alice', roles: ['a'] });
  });

  it('distinguishes an absent grant (null) from an empty one', async () => {
    const none = await claimsOf({ sub: 'x' });
    assert.equal(none.publish, null);
    assert.equal(none.subscribe, null);
    const empty = await claimsOf({ mercure: { publish: [], subscribe: [] } });
    assert.equal(empty.publish?.size, 0);
    assert.equal(canPublish(empty, ['a']), false);
    assert.equal(canReceive(empty, ['a']), false);
    assert.equal(canPublish(undefined, ['a']), false);
    assert.equal(canReceive(undefined, ['a']), false);
  });

  it('refuses malformed mercure claims', async () => {
    const cases: Array<[JWTPayload, RegExp]> = [
      [{ mercure: 'publish' }, /"mercure" claim must be an object/],
      [{ mercure: { publish: 'https://example.com/1' } }, /mercure.publish must be an array of strings/],
      [{ mercure: { subscribe: [1] } }, /mercure.subscribe must be an array of strings/],
      [{ mercure: { publish: ['https://example.com/{id'] } }, /mercure.publish: Invalid topic selector "https:\/\/example.com\/\{id": invalid URI template: unclosed/],
    ];
    for (const [payload, message] of cases) {
      await assert.rejects(claimsOf(payload), (e: unknown) => e instanceof HeraldError && e.code === 'unauthorized' && message.test(e.message), JSON.stringify(payload));
    }
  });
});

describe('Mercure 1.0 authorization_details', () => {
  it('grants actions per detail, with Exact (default) and URLPattern matchers', async () => {
    const claims = await claimsOf({
      authorization_details: [
        { type: 'mercure', actions: ['publish'], topics: [{ match: 'https://example.com/books/1' }, { match: 'https://example.com/rooms/:id', matchType: 'URLPattern' }] },
        { type: 'mercure', actions: ['subscribe'], topics: [{ match: '/.well-known/mercure/subscriptions/:t/:s', matchType: 'URLPattern' }], payload: { scope: 'presence' } },
        { type: 'mercure', actions: ['subscribe', 'publish'], topics: [{ match: 'https://example.com/{id}', matchType: 'Exact' }], payload: { scope: 'literal' } },
        { type: 'openid_credential', whatever: true },
      ],
    });
    assert.equal(canPublish(claims, ['https://example.com/books/1']), true);
    assert.equal(canPublish(claims, ['https://example.com/rooms/lobby']), true);
    assert.equal(canPublish(claims, ['https://example.com/books/2']), false);
    assert.equal(canPublish(claims, ['https://example.com/{id}']), true, 'Exact means the braces are literal');
    assert.equal(canPublish(claims, ['https://example.com/1']), false);
    assert.equal(canReceive(claims, ['/.well-known/mercure/subscriptions/a/b']), true);
    assert.equal(canReceive(claims, ['https://example.com/rooms/lobby']), false, 'publish grants do not allow reading');
    assert.deepEqual(claims.payload, { scope: 'presence' });
    assert.deepEqual(payloadFor(claims, '/.well-known/mercure/subscriptions/x/y'), { scope: 'presence' });
    assert.deepEqual(payloadFor(claims, 'https://example.com/{id}'), { scope: 'literal' });
    assert.equal(payloadFor(claims, 'https://example.com/other'), undefined);
  });

  it('unions 0.x and 1.0 grants in one token', async () => {
    const claims = await claimsOf({
      mercure: { publish: ['https://example.com/a'] },
      authorization_details: [{ type: 'mercure', actions: ['publish'], topics: [{ match: 'https://example.com/b' }] }],
    });
    assert.equal(canPublish(claims, ['https://example.com/a', 'https://example.com/b']), true);
    assert.equal(claims.subscribe, null);
  });

  it('refuses the whole token when any mercure detail is malformed', async () => {
    const good = { type: 'mercure', actions: ['subscribe'], topics: [{ match: '*' }] };
    const cases: Array<[unknown, RegExp]> = [
      [{ type: 'mercure', actions: ['subscribe'], topics: [{ match: '*' }] }, /must be an array/],
      [[good, 'mercure'], /authorization_details\[1\] must be an object with a string "type"/],
      [[good, { type: 'mercure', actions: [], topics: [{ match: '*' }] }], /\[1\]\.actions must be a non-empty array/],
      [[good, { type: 'mercure', actions: ['delete'], topics: [{ match: '*' }] }], /\[1\]\.actions/],
      [[good, { type: 'mercure', actions: ['publish'] }], /\[1\]\.topics must be a non-empty array/],
      [[good, { type: 'mercure', actions: ['publish'], topics: [] }], /\[1\]\.topics must be a non-empty array/],
      [[good, { type: 'mercure', actions: ['publish'], topics: ['https://example.com/1'] }], /\[1\]\.topics\[0\] must be an object with a string "match"/],
      [[good, { type: 'mercure', actions: ['publish'], topics: [{ match: 'x', matchType: 'Regex' }] }], /\.matchType must be "Exact" or "URLPattern"/],
      [[good, { type: 'mercure', actions: ['publish'], topics: [{ match: 'x', matchType: 'urlpattern' }] }], /\.matchType must be "Exact" or "URLPattern"/],
      [[good, { type: 'mercure', actions: ['publish'], topics: [{ match: '/:a(', matchType: 'URLPattern' }] }], /\[1\]\.topics\[0\]: Invalid topic selector "\/:a\(": invalid URL pattern/],
      [[good, { type: 'mercure', actions: ['subscribe'], topics: [{ match: '*' }], payload: 'str' }], /\[1\]\.payload must be a JSON object/],
      [Array.from({ length: 101 }, () => good), /more than 100 authorization details/],
    ];
    for (const [details, message] of cases) {
      await assert.rejects(
        claimsOf({ authorization_details: details as JWTPayload[string] }),
        (e: unknown) => e instanceof HeraldError && e.code === 'unauthorized' && e.headers['WWW-Authenticate'] === 'Bearer error="invalid_token"' && message.test(e.message),
        JSON.stringify(details).slice(0, 200),
      );
    }
  });
});
