// A stream ends when its token expires (the hub's shared sweep), with no `retry:`
// on the way out; reconnecting with the same token gets 401; streams with longer
// tokens keep receiving.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { Herald } from '../src/herald.js';
import { hubUrl, mintToken, publishOk, startTestHerald, SUBSCRIBER_KEY } from './support/herald.js';
import { rawStream } from './support/stream.js';

let herald: Herald;
before(async () => {
  herald = await startTestHerald({ chat: false });
});
after(() => herald.close());

interface Ended {
  readonly status: number;
  readonly text: string;
  readonly endedAt: number;
}

/** Opens a stream: `opened` once its head arrives, `ended` when the server ends it (with what it sent, and when). */
function streamUntilClosed(url: string, token: string, timeoutMs: number): { opened: Promise<void>; ended: Promise<Ended> } {
  let markOpen: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (markOpen = resolve));
  const ended = new Promise<Ended>((resolve, reject) => {
    const req = request(url, { headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' } }, (res) => {
      let text = '';
      markOpen();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('close', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, text, endedAt: Date.now() });
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`stream still open after ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
  return { opened, ended };
}

test('the stream closes within a second of exp, never before, without retry:, and the same token then gets 401', async () => {
  const topic = 'https://example.com/expiring';
  const exp = Math.floor(Date.now() / 1000) + 2;
  const shortToken = await mintToken({ mercure: { subscribe: [topic] }, exp }, SUBSCRIBER_KEY);
  const longToken = await mintToken({ mercure: { subscribe: [topic] } }, SUBSCRIBER_KEY, { expiresIn: '1h' });
  const survivor = await rawStream(hubUrl(herald.url, [['topic', topic]]), { Authorization: `Bearer ${longToken}` });
  const closing = streamUntilClosed(hubUrl(herald.url, [['topic', topic]]), shortToken, 8000);
  try {
    await closing.opened;
    await publishOk(herald.url, [['topic', topic], ['data', 'before expiry']]);
    const ended = await closing.ended;
    assert.equal(ended.status, 200);
    assert.ok(ended.endedAt >= exp * 1000, `closed ${exp * 1000 - ended.endedAt} ms before exp`);
    assert.ok(ended.endedAt - exp * 1000 < 2500, `closed ${ended.endedAt - exp * 1000} ms after exp`);
    assert.ok(ended.text.includes('data: before expiry\n'), ended.text);
    assert.ok(!ended.text.includes('retry:'), ended.text);

    const again = await fetch(hubUrl(herald.url, [['topic', topic]]), { headers: { Authorization: `Bearer ${shortToken}` } });
    assert.equal(again.status, 401);
    assert.deepEqual(await again.json(), { error: 'unauthorized', message: 'token expired' });

    await publishOk(herald.url, [['topic', topic], ['data', 'after expiry']]);
    const text = await survivor.waitForText('data: after expiry\n');
    assert.ok(text.includes('data: before expiry\n'), text);
    assert.equal(herald.hub.subscriberCount, 1, 'only the long-lived stream is left');
  } finally {
    survivor.close();
  }
});

test('one sweep ends many streams whose tokens share an exp', async () => {
  const topic = 'https://example.com/expiring-many';
  const exp = Math.floor(Date.now() / 1000) + 2;
  const own = await startTestHerald({ chat: false });
  try {
    const streams = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const token = await mintToken({ mercure: { subscribe: [topic] }, exp, jti: `s${i}` }, SUBSCRIBER_KEY);
        return streamUntilClosed(hubUrl(own.url, [['topic', topic]]), token, 8000);
      }),
    );
    await Promise.all(streams.map((s) => s.opened));
    assert.equal(own.hub.subscriberCount, 50);
    const ended = await Promise.all(streams.map((s) => s.ended));
    const times = ended.map((e) => e.endedAt);
    assert.ok(Math.min(...times) >= exp * 1000);
    assert.ok(Math.max(...times) - Math.min(...times) < 500, 'closed together, by one sweep');
    assert.equal(own.hub.subscriberCount, 0);
  } finally {
    await own.close();
  }
});
