// OAuth protected resource metadata (RFC 9728; draft 08 "Protected Resource Metadata"):
// the document at the path derived from the hub URL (and the bare well-known path),
// its members, and `resource_metadata` in every Bearer challenge, whichever door
// answered. A client that discovers the resource identifier from it gets a token the
// hub accepts. Real HTTP.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import type { Herald } from '../src/herald.js';
import { frontDoorOf } from '../src/http/server.js';
import { FRONT_DOORS, hubUrl, mintToken, publish, PUBLISHER_KEY, withHerald } from './support/herald.js';

const METADATA = '/.well-known/oauth-protected-resource/.well-known/mercure';
const DETAIL = 'https://mercure.rocks/authorization-detail';

async function metadataOf(herald: Herald, path = METADATA): Promise<Record<string, unknown>> {
  const response = await fetch(`${herald.url}${path}`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  return (await response.json()) as Record<string, unknown>;
}

describe('protected resource metadata', () => {
  test('the document: resource, detail types, header bearer method, cookie, matcher types, subscriptions', async () => {
    await withHerald({ subscriptions: true }, async (herald) => {
      const expected = {
        resource: `${herald.hub.url}/.well-known/mercure`,
        authorization_details_types_supported: [DETAIL, 'mercure'],
        bearer_methods_supported: ['header'],
        mercure_cookie: '__Secure-mercure_access_token',
        mercure_matcher_types_supported: ['exact', 'urlpattern', 'uritemplate'],
        mercure_subscriptions: true,
      };
      assert.deepEqual(await metadataOf(herald), expected);
      assert.deepEqual(await metadataOf(herald, '/.well-known/oauth-protected-resource'), expected, 'the bare well-known path serves the same document');
    });
    await withHerald({ subscriptions: false, jwtAudience: 'urn:herald:hub', mercureProfile: 'draft', jwtIssuer: 'https://iss.example' }, async (herald) => {
      const document = await metadataOf(herald);
      assert.equal(document.resource, 'urn:herald:hub', 'the configured resource identifier');
      assert.equal('mercure_subscriptions' in document, false, 'omitted without the feature');
      assert.deepEqual(document.authorization_details_types_supported, [DETAIL]);
    });
  });

  test('a client discovers the resource from the document and its access token is accepted', async () => {
    await withHerald({}, async (herald) => {
      const refused = await publish(herald.url, { topic: 'https://example.com/d' });
      assert.equal(refused.status, 401);
      const pointer = /resource_metadata="([^"]+)"/.exec(refused.headers.get('www-authenticate') ?? '')?.[1];
      assert.equal(pointer, `${herald.hub.url}${METADATA}`);
      const document = (await (await fetch(pointer!.replace(herald.hub.url, herald.url))).json()) as { resource: string };
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ iss: 'https://iss.example', aud: document.resource, exp: now + 60, authorization_details: [{ type: DETAIL, actions: ['publish'], topics: [{ match: '*' }] }] })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
        .sign(new TextEncoder().encode(PUBLISHER_KEY));
      assert.equal((await publish(herald.url, { topic: 'https://example.com/d' }, token)).status, 200);
    });
  });

  for (const door of FRONT_DOORS) {
    test(`every Bearer challenge names the document: 401 without and with a bad token, 403, 400 invalid_request (${door.name})`, async () => {
      await withHerald({ anonymous: false, ...door.config }, async (herald) => {
        const pointer = `resource_metadata="${herald.hub.url}${METADATA}"`;
        const challenge = async (init: { token?: string; subscribe?: boolean }) => {
          if (init.subscribe === true) {
            const controller = new AbortController();
            const response = await fetch(hubUrl(herald.url, [['topic', 'x']]), { signal: controller.signal, headers: init.token === undefined ? {} : { Authorization: `Bearer ${init.token}` } });
            controller.abort();
            return [response.status, response.headers.get('www-authenticate')];
          }
          const response = await publish(herald.url, { topic: 'https://example.com/c' }, init.token);
          return [response.status, response.headers.get('www-authenticate')];
        };
        const narrow = await mintToken({ mercure: { publish: ['https://example.com/other'] } }, PUBLISHER_KEY);
        const forged = await mintToken({ mercure: { publish: ['*'] } }, 'a-different-key-that-is-long-enough-0123456789');
        assert.deepEqual(await challenge({}), [401, `Bearer ${pointer}`], 'publish without a token');
        assert.deepEqual(await challenge({ subscribe: true }), [401, `Bearer ${pointer}`], 'subscribe without a token');
        assert.deepEqual(await challenge({ token: forged }), [401, `Bearer error="invalid_token", ${pointer}`]);
        assert.deepEqual(await challenge({ token: narrow }), [403, `Bearer error="insufficient_scope", ${pointer}`]);
        assert.deepEqual(await challenge({ token: 'no-jwt', subscribe: true }), [400, `Bearer error="invalid_request", ${pointer}`]);
        assert.ok(frontDoorOf(herald.app)!.stats.served >= 5, 'the front door answered them');
      });
    });
  }
});
