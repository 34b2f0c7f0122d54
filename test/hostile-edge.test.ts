// Trust at the edge: guards (CSRF, auth, limits) act on the route the router matched,
// never on how the URL spelled it, and tokens stay out of the logs in any spelling of
// their parameter name. Every route the app registered is enumerated (listRoutes) and
// sent with percent-encoded variants of its path.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { Herald } from '../src/herald.js';
import { startHerald } from '../src/herald.js';
import { testConfig } from '../src/config.js';
import { listRoutes } from '../src/http/routes.js';
import { createLogger } from '../src/log.js';
import { ChatClient } from './chat-client.js';
import { PUBLISHER_KEY, publisherToken, startTestHerald, SUBSCRIBER_KEY } from './support/herald.js';

const EVIL = 'http://evil.example';

/** A concrete path for a route pattern: parameters and wildcards filled. */
function concrete(url: string): string {
  return url.replace(/:room\b/g, 'lobby').replace(/:[A-Za-z_]+/g, 'x').replace(/\*$/, 'index.html');
}

const hex = (char: string, upper: boolean) => {
  const code = char.charCodeAt(0).toString(16).padStart(2, '0');
  return `%${upper ? code.toUpperCase() : code}`;
};

/** Spellings of one path the router decodes to the same route. */
function variants(path: string): string[] {
  const encodable = /[A-Za-z0-9._~-]/;
  const firstOfEach = (upper: boolean) => path.split('/').map((s) => (s !== '' && encodable.test(s[0]!) ? hex(s[0]!, upper) + s.slice(1) : s)).join('/');
  const first = path.replace(/^\/([A-Za-z0-9._~-])/, (_, c: string) => `/${hex(c, false)}`);
  const every = path.split('').map((c) => (encodable.test(c) ? hex(c, true) : c)).join('');
  return [...new Set([first, firstOfEach(false), firstOfEach(true), every])].filter((v) => v !== path);
}

interface Outcome {
  readonly status: number;
  readonly error?: string;
}

async function send(base: string, method: string, path: string, headers: Record<string, string>): Promise<Outcome> {
  try {
    return await sendOnce(base, method, path, headers);
  } catch (error) {
    throw new Error(`${method} ${path}: ${String(error)}`);
  }
}

async function sendOnce(base: string, method: string, path: string, headers: Record<string, string>): Promise<Outcome> {
  const controller = new AbortController();
  const body = method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? undefined : JSON.stringify({ nickname: 'Mallory', text: 'forged' });
  const response = await fetch(`${base}${path}${path.includes('?') ? '&' : '?'}topic=x`, {
    method,
    headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
    body,
    signal: AbortSignal.any([controller.signal, AbortSignal.timeout(5000)]),
  });
  const type = response.headers.get('content-type') ?? '';
  let error: string | undefined;
  if (method !== 'HEAD' && type.startsWith('application/json')) error = ((await response.json()) as { error?: string }).error;
  controller.abort(); // event streams never end on their own
  return { status: response.status, ...(error === undefined ? {} : { error }) };
}

describe('route guards act on the matched route, not the raw URL', () => {
  let herald: Herald;
  let victim: ChatClient;
  before(async () => {
    herald = await startTestHerald({ chat: true, subscriptions: true });
    victim = new ChatClient(herald.url);
    await victim.login('Victim');
  });
  after(() => herald.close());

  test('every route, every percent-encoded spelling: the same outcome; every cookie write from a foreign Origin 403', async () => {
    // HEAD of an event stream answers headers and then holds the connection (nothing to guard there).
    const streams = new Set(['/.well-known/mercure', '/status/stream']);
    const routes = listRoutes(herald.app).filter((r) => r.method !== 'OPTIONS' && !(r.method === 'HEAD' && streams.has(r.url)));
    assert.ok(routes.length >= 15, `routes: ${JSON.stringify(routes)}`);
    const writes = routes.filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
    for (const needed of ['POST /api/session', 'DELETE /api/session', 'POST /api/rooms/:room/messages', 'POST /.well-known/mercure']) {
      assert.ok(writes.some((r) => `${r.method} ${r.url}` === needed), needed);
    }
    const forged = { Cookie: victim.cookie!, Origin: EVIL };
    const shapes: Array<[string, Record<string, string>, string]> = [
      ['no credentials', {}, ''],
      ['cookie, foreign Origin', forged, ''],
      ['cookie and ?access_token=, foreign Origin', forged, '?access_token=x'],
      ['cookie and ?authorizatio%6E=, foreign Origin', forged, '?authorizatio%6E=x'],
    ];
    let sent = 0;
    for (const route of routes) {
      const path = concrete(route.url);
      for (const [shape, headers, query] of shapes) {
        const canonical = await send(herald.url, route.method, path + query, headers);
        if (headers.Origin !== undefined && route.method !== 'GET' && route.method !== 'HEAD') {
          assert.deepEqual(canonical, { status: 403, error: 'forbidden' }, `${route.method} ${path}${query} (${shape})`);
        }
        for (const variant of variants(path)) {
          const outcome = await send(herald.url, route.method, variant + query, headers);
          sent++;
          assert.deepEqual(outcome, canonical, `${route.method} ${variant}${query} (${shape}) vs ${path}`);
        }
      }
    }
    assert.ok(sent > 100, `sent ${sent}`);
    const history = await victim.request<{ messages: Array<{ text: string }> }>('GET', '/api/rooms/lobby/messages');
    assert.equal(history.status, 200);
    assert.deepEqual(history.body.messages.filter((m) => m.text === 'forged'), []);
    const session = await victim.request<{ session: { nickname: string } | null }>('GET', '/api/session');
    assert.equal(session.body.session?.nickname, 'Victim', 'neither renamed nor logged out');
  });

  test('the issue\'s request: POST /%61pi/rooms/lobby/messages?access_token=x with the cookie from evil.example', async () => {
    const reply = await victim.request<{ error: string }>('POST', '/%61pi/rooms/lobby/messages?access_token=x', { text: 'forged' }, { Origin: EVIL });
    assert.equal(reply.status, 403);
    assert.equal(reply.body.error, 'forbidden');
    assert.equal((await victim.request('POST', '/%61pi/rooms/lobby/messages', { text: 'mine' })).status, 201, 'its own Origin still passes');
  });
});

describe('limits act on the matched route', () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({ maxSubscriptionsPerIp: 1, publishRate: 1, publishBurst: 1 });
  });
  after(() => herald.close());

  test('a second stream and a second publish are refused whatever spelling of the hub path', async () => {
    const open = new AbortController();
    const first = await fetch(`${herald.url}/.well-known/mercure?topic=x`, { signal: open.signal });
    try {
      assert.equal(first.status, 200);
      for (const variant of variants('/.well-known/mercure')) {
        const second = await send(herald.url, 'GET', variant, {});
        assert.deepEqual(second, { status: 429, error: 'rate_limited' }, variant);
      }
    } finally {
      open.abort();
    }
    const token = await publisherToken();
    const form = { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Bearer ${token}` };
    const publishAt = (path: string) => fetch(`${herald.url}${path}`, { method: 'POST', headers: form, body: 'topic=x&data=y' });
    assert.equal((await publishAt('/.well-known/mercure')).status, 200);
    for (const variant of variants('/.well-known/mercure')) assert.equal((await publishAt(variant)).status, 429, variant);
  });
});

test('tokens in percent-encoded or case-changed parameter names are redacted in trace logs', async () => {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) });
  const config = testConfig({ publisherJwtKey: PUBLISHER_KEY, subscriberJwtKey: SUBSCRIBER_KEY, heartbeatSeconds: 0, chat: false, logLevel: 'trace' });
  const herald = await startHerald(config, createLogger('trace', sink));
  try {
    const names = ['%61ccess_token', 'authorizatio%6E', 'ACCESS_TOKEN', 'Authorization', '%2561ccess_token'];
    for (const [i, name] of names.entries()) {
      const response = await fetch(`${herald.url}/.well-known/mercure?topic=x&${name}=CANARY-${i}`, { method: 'POST' });
      await response.body?.cancel();
    }
    const log = lines.join('');
    assert.ok(log.includes('%61ccess_token=[redacted]'), 'the request lines were logged');
    assert.doesNotMatch(log, /CANARY/);
  } finally {
    await herald.close();
  }
});

describe('the chat\'s smaller trust items', () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({ chat: true, subscriptions: true });
  });
  after(() => herald.close());

  test('nicknames made only of invisible characters are refused; visible ones with joiners pass', async () => {
    const chat = new ChatClient(herald.url);
    for (const nickname of ['\u200b', '\u3164', '\u2060', '\u200b\u3164\u2060', '\u115f\u1160', '\uffa0', '\u00ad', '\u0301', '\u2800', '\u3000\u200b']) {
      const reply = await chat.request<{ error: string; message: string }>('POST', '/api/session', { nickname });
      assert.equal(reply.status, 400, JSON.stringify(nickname));
      assert.equal(reply.body.error, 'invalid_field');
    }
    for (const nickname of ['Ann', '\u{1F469}\u200d\u{1F4BB}', 'e\u0301', '\u200bBob']) {
      assert.equal((await chat.request('POST', '/api/session', { nickname })).status, 200, JSON.stringify(nickname));
    }
  });

  test('a session cookie subscribes to chat rooms only: urn:herald:chat:room:admin:secret stays private', async () => {
    const chat = new ChatClient(herald.url);
    await chat.login('Eve');
    const token = await publisherToken();
    const topics = ['urn:herald:chat:room:admin:secret', 'urn:herald:chat:room:lobby'];
    const controller = new AbortController();
    const url = `${herald.url}/.well-known/mercure?${topics.map((t) => `topic=${encodeURIComponent(t)}`).join('&')}`;
    const response = await fetch(url, { headers: { Cookie: chat.cookie! }, signal: controller.signal });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    let text = '';
    try {
      for (const [topic, data] of [[topics[0]!, 'SECRET'], [topics[1]!, 'room-message']] as const) {
        const form = new URLSearchParams({ topic, data, private: 'on' }).toString();
        const published = await fetch(`${herald.url}/.well-known/mercure`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded' }, body: form });
        assert.equal(published.status, 200);
      }
      const deadline = Date.now() + 5000;
      while (!text.includes('room-message') && Date.now() < deadline) text += new TextDecoder().decode((await reader.read()).value);
    } finally {
      controller.abort();
    }
    assert.match(text, /data: room-message/);
    assert.doesNotMatch(text, /SECRET/);
  });
});

test('a hub on RS256 with the chat on refuses to start, saying why', async () => {
  await assert.rejects(startTestHerald({ chat: true, jwtAlg: 'RS256', publisherJwtKey: undefined, subscriberJwtKey: undefined }), { code: 'invalid_config', message: /HMAC --jwt-alg/ });
  const { loadConfig } = await import('../src/config.js');
  assert.throws(() => loadConfig(['--jwt-alg', 'RS256'], {}), /--jwt-alg RS256: the chat signs its session cookies/);
  assert.doesNotThrow(() => loadConfig(['--jwt-alg', 'RS256', '--no-chat'], {}));
});

test('with the default limits an update of exactly --data-limit bytes can be published, form-encoded', async () => {
  const herald = await startTestHerald({ chat: false });
  try {
    const token = await publisherToken();
    const data = 'é'.repeat(1_048_576 / 2); // 1 MiB of UTF-8, tripled by form encoding
    const body = new URLSearchParams({ topic: 'https://example.com/big', data }).toString();
    const response = await fetch(`${herald.url}/.well-known/mercure`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded' }, body });
    assert.equal(response.status, 200, await response.text());
  } finally {
    await herald.close();
  }
});
