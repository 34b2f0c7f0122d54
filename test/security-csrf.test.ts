// CSRF: a write authorised by a cookie (a publish with the mercureAuthorization
// cookie, the chat's POSTs) needs an Origin or Referer naming the hub, its Host, or
// one of --cors-origins. Writes authorised by an Authorization header are not checked.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Herald } from '../src/herald.js';
import { ChatClient } from './chat-client.js';
import { hubUrl, publisherToken, startTestHerald } from './support/herald.js';
import { rawStream } from './support/stream.js';

describe('CSRF', () => {
  let herald: Herald;
  let token: string;
  before(async () => {
    herald = await startTestHerald({ publicUrl: 'https://hub.example.com', corsOrigins: ['https://app.example.com'] });
    token = await publisherToken();
  });
  after(() => herald.close());

  async function cookiePublish(data: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
    const response = await fetch(`${herald.url}/.well-known/mercure`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `mercureAuthorization=${token}`, ...headers },
      body: new URLSearchParams({ topic: 'https://example.com/csrf', data }).toString(),
    });
    return { status: response.status, body: await response.text() };
  }

  test('a cookie-authorised publish is refused (403) from a foreign Origin or Referer, and from none', async () => {
    const stream = await rawStream(hubUrl(herald.url, [['topic', 'https://example.com/csrf']]));
    try {
      const refused: Array<[string, Record<string, string>]> = [
        ['foreign Origin', { Origin: 'https://evil.example' }],
        ['Origin null', { Origin: 'null' }],
        ['look-alike Origin', { Origin: 'https://hub.example.com.evil.example' }],
        ['other scheme', { Origin: 'http://hub.example.com' }],
        ['foreign Referer', { Referer: 'https://evil.example/page' }],
        ['no Origin nor Referer', {}],
        ['a foreign Origin beats a good Referer', { Origin: 'https://evil.example', Referer: 'https://hub.example.com/' }],
      ];
      for (const [name, headers] of refused) {
        const result = await cookiePublish(`forged: ${name}`, headers);
        assert.equal(result.status, 403, `${name}: ${result.body}`);
        const body = JSON.parse(result.body) as { error: string; message: string };
        assert.equal(body.error, 'forbidden');
        assert.match(body.message, /^Cross-site request refused/);
      }
      const allowed: Array<[string, Record<string, string>]> = [
        ['the public origin', { Origin: 'https://hub.example.com' }],
        ['a --cors-origins origin', { Origin: 'https://app.example.com' }],
        ['the Host it was sent to', { Origin: herald.url }],
        ['a same-origin Referer', { Referer: 'https://hub.example.com/chat?room=a' }],
      ];
      for (const [name, headers] of allowed) assert.equal((await cookiePublish(`ok: ${name}`, headers)).status, 200, name);
      const text = await stream.waitForText('data: ok: a same-origin Referer\n');
      assert.ok(!text.includes('forged'), text);
      assert.equal(text.match(/data: ok: /g)?.length, 4);
    } finally {
      stream.close();
    }
  });

  test('a publish authorised by the Authorization header is not subject to the Origin check', async () => {
    const response = await fetch(`${herald.url}/.well-known/mercure`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Bearer ${token}`, Origin: 'https://evil.example', Cookie: 'mercureAuthorization=ignored' },
      body: 'topic=https%3A%2F%2Fexample.com%2Fcsrf&data=header',
    });
    assert.equal(response.status, 200);
  });

  test("the chat's cookie-authorised POSTs: 403 from a foreign Origin, 201 from its own", async () => {
    const chat = new ChatClient(herald.url);
    await chat.login('Ann');
    const forged = await chat.request<{ error: string }>('POST', '/api/rooms/lobby/messages', { text: 'forged' }, { Origin: 'https://evil.example' });
    assert.equal(forged.status, 403);
    assert.equal(forged.body.error, 'forbidden');
    const rename = await chat.request<{ error: string }>('POST', '/api/session', { nickname: 'Mallory' }, { Origin: 'https://evil.example' });
    assert.equal(rename.status, 403);
    assert.equal((await chat.send('lobby', 'hello')).status, 201);
  });
});
