// Subscription endpoint: headers, byte-exact data through a real EventSource,
// selectors (exact, URI templates, URL patterns, *), private updates, heartbeats.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hubUrl, publishOk, startTestHerald, subscriberToken, useHerald } from './support/herald.js';
import { collect, rawStream } from './support/stream.js';

describe('subscribe', () => {
  const fixture = useHerald();

  test('answers an event stream with the headers SSE proxies and clients need', async () => {
    const stream = await rawStream(hubUrl(fixture.herald.url, [['topic', 'https://example.com/h']]));
    try {
      assert.equal(stream.status, 200);
      assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
      assert.match(String(stream.headers['cache-control']), /no-cache/);
      assert.equal(stream.headers['x-accel-buffering'], 'no');
      assert.ok(stream.headers['last-event-id'], 'Last-Event-ID header');
      assert.equal(stream.headers['mercure-last-event-id'], stream.headers['last-event-id']);
      assert.match(String(stream.headers.link), /rel="mercure"/);
    } finally {
      stream.close();
    }
  });

  test('multi-line, empty-line and space-leading data survive byte for byte through a real EventSource', async () => {
    const stream = collect(hubUrl(fixture.herald.url, [['topic', 'https://example.com/text']]));
    const payloads = ['line one\nline two', '  two leading spaces', '\n\nblank lines\n\n', 'tab\tand unicode ✓ 𝄞', '', ' ', 'crlf\r\nstays a line break'];
    try {
      await stream.opened;
      for (const data of payloads) await publishOk(fixture.herald.url, { topic: 'https://example.com/text', data });
      const events = await stream.waitFor(payloads.length);
      // CRLF is one line break on the wire; the parser hands back LF.
      assert.deepEqual(events.map((e) => e.data), payloads.map((p) => p.replace(/\r\n/g, '\n')));
    } finally {
      stream.close();
    }
  });

  test('an update published right after open is received (20 tries)', async () => {
    for (let i = 0; i < 20; i++) {
      const stream = collect(hubUrl(fixture.herald.url, [['topic', `https://example.com/race/${i}`]]));
      try {
        await stream.opened;
        const id = await publishOk(fixture.herald.url, { topic: `https://example.com/race/${i}`, data: `n${i}` });
        const [event] = await stream.waitFor(1, 3000);
        assert.equal(event?.id, id);
      } finally {
        stream.close();
      }
    }
  });

  test('URI template selectors match what they should and nothing else', async () => {
    const stream = collect(hubUrl(fixture.herald.url, [['topic', 'https://example.com/books/{id}']]));
    try {
      await stream.opened;
      await publishOk(fixture.herald.url, { topic: 'https://example.com/authors/1', data: 'no-1' });
      await publishOk(fixture.herald.url, { topic: 'https://example.com/books/1/reviews', data: 'no-2' });
      await publishOk(fixture.herald.url, { topic: 'https://example.com/books/42', data: 'yes-1' });
      await publishOk(fixture.herald.url, { topic: 'https://example.com/books/7', data: 'yes-2' });
      const events = await stream.waitFor(2);
      assert.deepEqual(events.map((e) => e.data), ['yes-1', 'yes-2']);
      // A marker on a matching topic proves nothing else slipped in between.
      await publishOk(fixture.herald.url, { topic: 'https://example.com/books/end', data: 'marker' });
      await stream.waitFor(3);
      assert.deepEqual(stream.events.map((e) => e.data), ['yes-1', 'yes-2', 'marker']);
    } finally {
      stream.close();
    }
  });

  test('1.0 spellings: match (exact) and matchURLPattern / match_urlpattern', async () => {
    const exact = collect(hubUrl(fixture.herald.url, [['match', 'https://example.com/m/{x}']]));
    const pattern = collect(hubUrl(fixture.herald.url, [['matchURLPattern', 'https://example.com/m/:x']]));
    const snake = collect(hubUrl(fixture.herald.url, [['match_urlpattern', 'https://example.com/m/:x']]));
    try {
      await Promise.all([exact.opened, pattern.opened, snake.opened]);
      await publishOk(fixture.herald.url, { topic: 'https://example.com/m/1', data: 'one' });
      await publishOk(fixture.herald.url, { topic: 'https://example.com/m/{x}', data: 'literal' });
      assert.deepEqual((await exact.waitFor(1)).map((e) => e.data), ['literal']);
      // `:x` matches one path segment, including the literal "{x}" (percent-encoded by URL parsing).
      assert.deepEqual((await pattern.waitFor(2)).map((e) => e.data), ['one', 'literal']);
      assert.deepEqual((await snake.waitFor(2)).map((e) => e.data), ['one', 'literal']);
    } finally {
      exact.close();
      pattern.close();
      snake.close();
    }
  });

  test('* receives every public update; several topics in one stream arrive in publish order', async () => {
    const all = collect(hubUrl(fixture.herald.url, [['topic', '*']]));
    const two = collect(hubUrl(fixture.herald.url, [['topic', 'https://example.com/x'], ['topic', 'https://example.com/y']]));
    try {
      await Promise.all([all.opened, two.opened]);
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push(await publishOk(fixture.herald.url, { topic: `https://example.com/${i % 2 ? 'x' : 'y'}`, data: String(i) }));
      assert.deepEqual((await two.waitFor(10)).map((e) => e.id), ids);
      const seen = (await all.waitFor(10)).map((e) => e.id);
      assert.deepEqual(seen.slice(-10), ids);
    } finally {
      all.close();
      two.close();
    }
  });

  test('400 for an unknown match* parameter and for no selector', async () => {
    for (const query of ['matchRegex=x', 'foo=bar', '']) {
      const response = await fetch(`${fixture.herald.url}/.well-known/mercure?${query}`);
      assert.equal(response.status, 400, query);
      const body = (await response.json()) as { error: string; message: string };
      assert.ok(body.message.length > 0);
    }
  });

  test('more selectors than --max-topics are refused with 400', async () => {
    const narrow = await startTestHerald({ maxTopics: 3 });
    try {
      const ok = await fetch(hubUrl(narrow.url, [['topic', 'a'], ['topic', 'b'], ['match', 'c']]), { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      assert.equal(ok?.status, 200);
      await ok?.body?.cancel();
      const response = await fetch(hubUrl(narrow.url, [['topic', 'a'], ['topic', 'b'], ['topic', 'c'], ['match', 'd']]));
      assert.equal(response.status, 400);
      assert.match(((await response.json()) as { message: string }).message, /at most 3, --max-topics/);
    } finally {
      await narrow.close();
    }
  });

  test('private updates reach only subscribers whose subscribe claim matches', async () => {
    const anonymous = collect(hubUrl(fixture.herald.url, [['topic', 'https://example.com/secret/{id}']]));
    const granted = collect(hubUrl(fixture.herald.url, [['topic', 'https://example.com/secret/{id}']]), { token: await subscriberToken(['https://example.com/secret/{id}']) });
    const other = collect(hubUrl(fixture.herald.url, [['topic', 'https://example.com/secret/{id}']]), { token: await subscriberToken(['https://example.com/other']) });
    try {
      await Promise.all([anonymous.opened, granted.opened, other.opened]);
      await publishOk(fixture.herald.url, [['topic', 'https://example.com/secret/1'], ['data', 'hidden'], ['private', 'on']]);
      await publishOk(fixture.herald.url, { topic: 'https://example.com/secret/2', data: 'public' });
      assert.deepEqual((await granted.waitFor(2)).map((e) => e.data), ['hidden', 'public']);
      assert.deepEqual((await anonymous.waitFor(1)).map((e) => e.data), ['public']);
      assert.deepEqual((await other.waitFor(1)).map((e) => e.data), ['public']);
    } finally {
      anonymous.close();
      granted.close();
      other.close();
    }
  });

  test('anonymous subscribers are refused with 401 when --anonymous is off', async () => {
    const closed = await startTestHerald({ anonymous: false });
    try {
      const response = await fetch(hubUrl(closed.url, [['topic', 'x']]));
      assert.equal(response.status, 401);
      assert.equal(((await response.json()) as { error: string }).error, 'unauthorized');
      const allowed = collect(hubUrl(closed.url, [['topic', 'x']]), { token: await subscriberToken(['x']) });
      await allowed.opened;
      allowed.close();
    } finally {
      await closed.close();
    }
  });

  test('idle streams get heartbeat comments', async () => {
    const beating = await startTestHerald({ heartbeatSeconds: 1 });
    const stream = await rawStream(hubUrl(beating.url, [['topic', 'quiet']]));
    try {
      await stream.waitForText(':\n\n', 4000);
    } finally {
      stream.close();
      await beating.close();
    }
  });
});
