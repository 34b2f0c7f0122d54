// Publication endpoint: the rules of Mercure's POST, over real HTTP.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hubUrl, mintToken, PUBLISHER_KEY, publish, startTestHerald, useHerald } from './support/herald.js';
import { collect, rawStream } from './support/stream.js';

describe('publish', () => {
  const fixture = useHerald();

  test('answers 200 text/plain with exactly the generated urn:uuid id', async () => {
    const result = await publish(fixture.herald.url, { topic: 'https://example.com/a', data: 'x' }, fixture.token);
    assert.equal(result.status, 200);
    assert.match(result.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(result.body, /^urn:uuid:[0-9a-f-]{36}$/);
  });

  test("uses the publisher's id as the SSE id, and type/retry become event/retry", async () => {
    const stream = await rawStream(hubUrl(fixture.herald.url, [['topic', 'https://example.com/typed']]));
    try {
      const result = await publish(fixture.herald.url, [['topic', 'https://example.com/typed'], ['data', 'hello'], ['id', 'my-id-1'], ['type', 'greeting'], ['retry', '2500']], fixture.token);
      assert.equal(result.body, 'my-id-1');
      const text = await stream.waitForText('data: hello\n\n');
      assert.ok(text.includes('event: greeting\nid: my-id-1\nretry: 2500\ndata: hello\n\n'), text);
    } finally {
      stream.close();
    }
  });

  test('accepts a charset parameter on the form content type', async () => {
    const result = await publish(fixture.herald.url, { topic: 'https://example.com/cs', data: 'é' }, fixture.token, 'application/x-www-form-urlencoded; charset=UTF-8');
    assert.equal(result.status, 200, result.body);
  });

  test('an update with alternate topics reaches subscribers of any of them', async () => {
    const stream = collect(hubUrl(fixture.herald.url, [['topic', 'https://example.com/alt']]));
    try {
      await stream.opened;
      const id = (await publish(fixture.herald.url, [['topic', 'https://example.com/canonical'], ['topic', 'https://example.com/alt'], ['data', 'both']], fixture.token)).body;
      const [event] = await stream.waitFor(1);
      assert.deepEqual(event, { type: 'message', id, data: 'both' });
    } finally {
      stream.close();
    }
  });

  const refused: Array<[string, Array<[string, string]>, number, string]> = [
    ['missing topic', [['data', 'x']], 400, 'missing_topic'],
    ['retry not a number', [['topic', 't'], ['retry', 'soon']], 400, 'invalid_field'],
    ['negative retry', [['topic', 't'], ['retry', '-1']], 400, 'invalid_field'],
    ['LF in id', [['topic', 't'], ['id', 'a\nid: evil']], 400, 'invalid_field'],
    ['CR in id', [['topic', 't'], ['id', 'a\rb']], 400, 'invalid_field'],
    ['NUL in id', [['topic', 't'], ['id', 'a\0b']], 400, 'invalid_field'],
    ['CRLF in type', [['topic', 't'], ['type', 'x\r\ndata: evil']], 400, 'invalid_field'],
    ['control char in topic', [['topic', 'a\u0007b']], 400, 'invalid_field'],
    ['reserved relative topic', [['topic', '/.well-known/mercure/subscriptions/a/b']], 400, 'reserved_topic'],
    ['reserved absolute topic', [['topic', 'https://example.com/.well-known/mercure']], 400, 'reserved_topic'],
    ['a percent-encoded reserved topic', [['topic', '/.well-known/%6Dercure/x']], 400, 'reserved_topic'],
    ['a dot-segment reserved topic', [['topic', '/a/../.well-known/mercure/x']], 400, 'reserved_topic'],
    ['the wildcard as a topic', [['topic', 'https://example.com/a'], ['topic', '*']], 400, 'invalid_field'],
    ['a format character in a topic', [['topic', 'https://example.com/a\u200Bb']], 400, 'invalid_field'],
    ['the id earliest', [['topic', 't'], ['id', 'earliest']], 400, 'invalid_field'],
    ['DEL in id', [['topic', 't'], ['id', 'a\u007fb']], 400, 'invalid_field'],
    ['C1 in id', [['topic', 't'], ['id', 'a\u0085b']], 400, 'invalid_field'],
    ['a bidi control in id', [['topic', 't'], ['id', 'a\u202Eb']], 400, 'invalid_field'],
    ['the reserved type mercure', [['topic', 't'], ['type', 'mercure']], 400, 'invalid_field'],
    ['a zero-width character in type', [['topic', 't'], ['type', 'a\u200Db']], 400, 'invalid_field'],
  ];
  for (const [name, fields, status, code] of refused) {
    test(`refuses ${name} with ${status} ${code}`, async () => {
      const result = await publish(fixture.herald.url, fields, fixture.token);
      assert.equal(result.status, status, result.body);
      const body = JSON.parse(result.body) as { error: string; message: string };
      assert.equal(body.error, code);
      assert.ok(body.message.length > 10, body.message);
    });
  }

  test('refused updates are not delivered', async () => {
    const stream = await rawStream(hubUrl(fixture.herald.url, [['topic', '*']]));
    try {
      await publish(fixture.herald.url, [['topic', 't'], ['id', 'x\nevent: injected'], ['data', 'no']], fixture.token);
      await publish(fixture.herald.url, [['topic', 't'], ['data', 'marker']], fixture.token);
      const text = await stream.waitForText('data: marker');
      assert.ok(!text.includes('injected'), text);
      assert.ok(!text.includes('data: no\n'), text);
    } finally {
      stream.close();
    }
  });

  test('401 without a fixture.token or with a bad one; 403 insufficient_scope when the selectors do not cover the topic', async () => {
    const none = await publish(fixture.herald.url, { topic: 'https://example.com/a' });
    assert.equal(none.status, 401);
    assert.equal((JSON.parse(none.body) as { error: string }).error, 'unauthorized');
    const forged = await publish(fixture.herald.url, { topic: 'https://example.com/a' }, await mintToken({ mercure: { publish: ['*'] } }, 'wrong-key-wrong-key-wrong-key-wrong-key'));
    assert.equal(forged.status, 401);
    const narrow = await mintToken({ mercure: { publish: ['https://example.com/books/{id}'] } }, PUBLISHER_KEY);
    assert.equal((await publish(fixture.herald.url, { topic: 'https://example.com/books/1' }, narrow)).status, 200);
    const outside = await publish(fixture.herald.url, { topic: 'https://example.com/authors/1' }, narrow);
    assert.equal(outside.status, 403);
    assert.match(outside.headers.get('www-authenticate') ?? '', /^Bearer error="insufficient_scope", resource_metadata="[^"]+"$/);
    assert.match(JSON.parse(outside.body).message as string, /authors\/1/);
  });

  test('413 with a JSON error when the body is too large', async () => {
    const small = await startTestHerald({ bodyLimit: 1024 });
    try {
      const result = await publish(small.url, { topic: 't', data: 'x'.repeat(5000) }, fixture.token);
      assert.equal(result.status, 413);
      assert.equal((JSON.parse(result.body) as { error: string }).error, 'payload_too_large');
    } finally {
      await small.close();
    }
  });
});
