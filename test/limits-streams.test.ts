// Stream limits over HTTP: concurrent event streams per client address (429 +
// Retry-After) and in total (503 + Retry-After), slots freed when a stream closes,
// refused or failed requests never holding one, and one log line per client.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Herald } from '../src/herald.js';
import { hubUrl, publish, publisherToken, subscriberToken, withHerald } from './support/herald.js';
import { rawStream, type RawStream } from './support/stream.js';

const streamUrl = (herald: Herald) => hubUrl(herald.url, [['topic', 'https://example.com/s']]);

/** A subscribe that is expected to be refused: its status, JSON body and Retry-After. */
async function refused(url: string, headers: Record<string, string> = {}): Promise<{ status: number; error: string; retryAfter: string | null }> {
  const response = await fetch(url, { headers });
  const body = (await response.json()) as { error: string };
  return { status: response.status, error: body.error, retryAfter: response.headers.get('retry-after') };
}

/** Opens a stream once a slot is free again (the previous one closes asynchronously), within a deadline. */
async function openWhenFree(url: string, timeoutMs = 5000): Promise<RawStream> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stream = await rawStream(url);
    if (stream.status === 200) return stream;
    stream.close();
    if (Date.now() > deadline) throw new Error(`still refused (${stream.status}) after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('stream limits', () => {
  test('per address (--max-subscriptions-per-ip 2): the third gets 429 + Retry-After; closing one frees a slot', async () => {
    await withHerald({ maxSubscriptionsPerIp: 2 }, async (herald, logs) => {
      const open = [await rawStream(streamUrl(herald)), await rawStream(streamUrl(herald))];
      try {
        assert.deepEqual(open.map((s) => s.status), [200, 200]);
        for (let i = 0; i < 3; i++) assert.deepEqual(await refused(streamUrl(herald)), { status: 429, error: 'rate_limited', retryAfter: '5' });
        const token = await publisherToken();
        assert.equal((await publish(herald.url, { topic: 'https://example.com/s', data: 'x' }, token)).status, 200, 'other requests are not counted');
        open.shift()?.close();
        open.push(await openWhenFree(streamUrl(herald)));
        assert.equal(herald.hub.subscriberCount, 2);
        assert.equal(logs.filter((l) => l.limit === 'rate_limited').length, 1, 'three refusals, one line');
      } finally {
        for (const stream of open) stream.close();
      }
    });
  });

  test('per address behind a proxy (--trust-proxy): each X-Forwarded-For client has its own budget', async () => {
    await withHerald({ maxSubscriptionsPerIp: 1, trustProxy: true }, async (herald) => {
      const a = await rawStream(streamUrl(herald), { 'X-Forwarded-For': '203.0.113.1' });
      const b = await rawStream(streamUrl(herald), { 'X-Forwarded-For': '203.0.113.2' });
      try {
        assert.deepEqual([a.status, b.status], [200, 200]);
        assert.equal((await refused(streamUrl(herald), { 'X-Forwarded-For': '203.0.113.1' })).status, 429);
      } finally {
        a.close();
        b.close();
      }
    });
  });

  test('in total (--max-connections 3): the fourth gets 503 too_many_connections with Retry-After', async () => {
    await withHerald({ maxConnections: 3 }, async (herald, logs) => {
      const open: RawStream[] = [];
      try {
        for (let i = 0; i < 3; i++) open.push(await rawStream(streamUrl(herald)));
        assert.deepEqual(await refused(streamUrl(herald)), { status: 503, error: 'too_many_connections', retryAfter: '5' });
        assert.equal(logs.filter((l) => l.limit === 'too_many_connections').length, 1);
        open.pop()?.close();
        open.push(await openWhenFree(streamUrl(herald)));
        assert.equal(open.length, 3);
      } finally {
        for (const stream of open) stream.close();
      }
    });
  });

  test('refused and failed subscribes never keep a slot: after 50 bad requests all 3 slots are free', async () => {
    await withHerald({ maxConnections: 3, anonymous: false }, async (herald) => {
      for (let i = 0; i < 25; i++) assert.equal((await fetch(hubUrl(herald.url, [['match', 'x'], ['matchNope', 'y']]))).status, 400);
      for (let i = 0; i < 25; i++) assert.equal((await fetch(streamUrl(herald))).status, 401);
      const token = await subscriberToken(['*']);
      const open: RawStream[] = [];
      try {
        for (let i = 0; i < 3; i++) open.push(await openWhenFree(streamUrl(herald).concat(`&access_token=${token}`)));
        assert.equal(herald.hub.subscriberCount, 3);
      } finally {
        for (const stream of open) stream.close();
      }
    });
  });
});
