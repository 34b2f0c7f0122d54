// CORS with credentials (draft 08, Subscription): a credentialed response names an
// origin of an explicit allowlist, with Access-Control-Allow-Credentials: true, and is
// never `*` nor reflected from an arbitrary origin. `--cors-origins '*'` therefore
// means any origin WITHOUT credentials: browsers refuse a cookie-carrying stream to a
// foreign script, and a cookie-authorised write from a foreign origin is refused
// (CSRF) as without the option. Real HTTP (CORS turns the front door off: Fastify serves).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config.js';
import { hubUrl, publisherToken, subscriberToken, withHerald } from './support/herald.js';

const APP = 'https://app.example';
const EVIL = 'https://evil.example';

async function stream(url: string, headers: Record<string, string>): Promise<Headers> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  assert.equal(response.status, 200);
  controller.abort();
  return response.headers;
}

describe('CORS and credentials', () => {
  test("--cors-origins '*': Allow-Origin * and never Allow-Credentials, with a cookie too; foreign cookie writes refused", async () => {
    await withHerald({ corsOrigins: ['*'] }, async (herald) => {
      const cookie = `mercureAuthorization=${await subscriberToken(['*'])}`;
      const url = hubUrl(herald.url, [['topic', 'https://example.com/c']]);
      for (const origin of [EVIL, APP]) {
        const headers = await stream(url, { Origin: origin, Cookie: cookie });
        assert.equal(headers.get('access-control-allow-origin'), '*', origin);
        assert.equal(headers.get('access-control-allow-credentials'), null, `${origin}: no credentials with *`);
      }
      const preflight = await fetch(`${herald.url}/.well-known/mercure`, { method: 'OPTIONS', headers: { Origin: EVIL, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' } });
      assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
      assert.equal(preflight.headers.get('access-control-allow-credentials'), null);
      await preflight.body?.cancel();
      // A cookie-authorised publish from another site: "*" no longer opens the CSRF check.
      const body = 'topic=https%3A%2F%2Fexample.com%2Fc&data=x';
      const form = { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `mercureAuthorization=${await publisherToken()}` };
      const foreign = await fetch(`${herald.url}/.well-known/mercure`, { method: 'POST', headers: { ...form, Origin: EVIL }, body });
      assert.equal(foreign.status, 403);
      assert.equal(((await foreign.json()) as { error: string }).error, 'forbidden');
      const own = await fetch(`${herald.url}/.well-known/mercure`, { method: 'POST', headers: { ...form, Origin: herald.url }, body });
      assert.equal(own.status, 200, 'the hub\'s own origin still publishes with the cookie');
      await own.body?.cancel();
    });
  });

  test('an allowlist: the listed origin with Allow-Credentials: true; another origin gets no CORS grant', async () => {
    await withHerald({ corsOrigins: [APP] }, async (herald) => {
      const cookie = `mercureAuthorization=${await subscriberToken(['*'])}`;
      const url = hubUrl(herald.url, [['topic', 'https://example.com/c']]);
      const listed = await stream(url, { Origin: APP, Cookie: cookie });
      assert.equal(listed.get('access-control-allow-origin'), APP);
      assert.equal(listed.get('access-control-allow-credentials'), 'true');
      const other = await stream(url, { Origin: EVIL, Cookie: cookie });
      assert.equal(other.get('access-control-allow-origin'), null, 'never reflected');
    });
  });

  test("'*' cannot be mixed with origins", () => {
    assert.throws(() => loadConfig(['--cors-origins', `*,${APP}`], {}), /cannot be mixed/);
    assert.deepEqual(loadConfig(['--cors-origins', '*'], {}).corsOrigins, ['*']);
  });
});
