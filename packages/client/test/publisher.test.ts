// The Node publisher against a real Herald: single and batch publishes, the hub's
// refusals as typed errors, retries after a 429 and after an answer lost on a real
// socket (a proxy that forwards the request and cuts the reply), with exactly one
// event on the stream per update.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Herald } from '../../../src/herald.js';
import { PUBLISHER_KEY, startTestHerald, SUBSCRIBER_KEY } from '../../../test/support/herald.js';
import { HeraldClientError, mintPublisherToken, mintSubscriberToken, Publisher, subscribe } from '../src/node.js';
import { recorder } from './support.js';

/** A well-formed JWT whose signature is wrong: refused as an invalid token (401), not as a malformed one (400). */
const WRONG_SIGNATURE = 'eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl';

const TOPIC = 'https://example.com/client/published';

/** Runs `run` with a proxy to `port` whose first `cut` connections never get the hub's reply back; closes it after. */
async function withCuttingProxy(port: number, cut: number, run: (url: string) => Promise<void>): Promise<void> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const drop = connections++ < cut;
    const upstream = connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream);
    if (drop) upstream.once('data', () => (client.destroy(), upstream.destroy()));
    else upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  try {
    await run(`http://127.0.0.1:${address.port}/.well-known/mercure`);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('Publisher against Herald', () => {
  let herald: Herald;
  let hub: string;
  let token: string;
  before(async () => {
    herald = await startTestHerald({ chat: false, dataLimit: 64 });
    hub = `${herald.url}/.well-known/mercure`;
    token = await mintPublisherToken(['*'], { key: PUBLISHER_KEY, expiresIn: '10m' });
  });
  after(() => herald.close());

  async function following(run: () => Promise<void>, count: number): Promise<string[]> {
    const rec = recorder();
    const sub = subscribe(TOPIC, rec.handlers, { hub });
    try {
      await rec.until('open', () => sub.state === 'open');
      await run();
      await rec.until(`${count} events`, () => rec.events.length >= count);
      return rec.ids();
    } finally {
      sub.close();
    }
  }

  test('publish and publishBatch: ids in order, own ids kept, every field on the wire', async () => {
    const publisher = new Publisher({ hub, token });
    let single = '';
    let batch: string[] = [];
    const seen = await following(async () => {
      single = await publisher.publish({ topic: TOPIC, data: 'one', type: 'note' });
      batch = await publisher.publishBatch([{ topic: [TOPIC, 'https://example.com/other'], data: 'two' }, { topic: TOPIC, data: 'three', id: 'my-own-id' }]);
    }, 3);
    assert.match(single, /^urn:uuid:/);
    assert.equal(batch.length, 2);
    assert.equal(batch[1], 'my-own-id');
    assert.deepEqual(seen, [single, ...batch]);
  });

  test('minted subscriber tokens open private updates; the payload shows in subscription events', async () => {
    const token = await mintSubscriberToken([TOPIC, '/.well-known/mercure/subscriptions/{+rest}'], { key: SUBSCRIBER_KEY, expiresIn: 60, payload: { name: 'Ann' } });
    const rec = recorder();
    const sub = subscribe([TOPIC, '/.well-known/mercure/subscriptions/{+rest}'], rec.handlers, { hub, token });
    try {
      await rec.until('open', () => sub.state === 'open');
      const id = await new Publisher({ hub, token: () => mintPublisherToken([TOPIC], { key: PUBLISHER_KEY }) }).publish({ topic: TOPIC, data: 'secret', private: true });
      await rec.until('the private update', () => rec.ids().includes(id));
      const own = rec.events.find((e) => e.data.includes('"Ann"'));
      assert.ok(own !== undefined, JSON.stringify(rec.events.map((e) => e.data)));
      // The hub's default shape (draft 08): the reserved event type `mercure`, a plain JSON document.
      assert.equal(own.type, 'mercure');
      assert.equal((JSON.parse(own.data) as { type: string }).type, 'subscription');
    } finally {
      sub.close();
    }
  });

  test('refusals are typed errors with Herald\'s codes', async () => {
    const publisher = new Publisher({ hub, token });
    const refused = async (promise: Promise<unknown>): Promise<[string, number]> => {
      const error = await promise.then(() => assert.fail('accepted'), (e: unknown) => e);
      assert.ok(error instanceof HeraldClientError);
      return [error.code, error.status];
    };
    assert.deepEqual(await refused(new Publisher({ hub, token: WRONG_SIGNATURE }).publish({ topic: TOPIC })), ['unauthorized', 401]);
    const narrow = await mintPublisherToken(['https://example.com/elsewhere'], { key: PUBLISHER_KEY });
    assert.deepEqual(await refused(new Publisher({ hub, token: narrow }).publish({ topic: TOPIC })), ['forbidden', 403]);
    assert.deepEqual(await refused(publisher.publish({ topic: '/.well-known/mercure/subscriptions/x' })), ['reserved_topic', 400]);
    assert.deepEqual(await refused(publisher.publish({ topic: TOPIC, id: 'two\nlines' })), ['invalid_field', 400]);
    assert.deepEqual(await refused(publisher.publish({ topic: TOPIC, data: 'x'.repeat(65) })), ['payload_too_large', 413]);
    assert.deepEqual(await refused(publisher.publishBatch([{ topic: TOPIC }, { topic: TOPIC, id: 'bad\rid' }])), ['invalid_field', 400]);
    const failed = await new Publisher({ hub: 'http://127.0.0.1:1/.well-known/mercure', token, retries: 0 }).publish({ topic: TOPIC }).catch((e: unknown) => e);
    assert.ok(failed instanceof HeraldClientError && failed.code === 'network' && failed.transient);
  });

  test('a lost answer is retried with the same id: published once, reported as stored', () =>
    withCuttingProxy(Number(new URL(herald.url).port), 1, async (url) => {
      const publisher = new Publisher({ hub: url, token, retryDelayMs: 20 });
      let id = '';
      const seen = await following(async () => {
        id = await publisher.publish({ topic: TOPIC, data: 'lost answer' });
      }, 1);
      assert.deepEqual(seen, [id]);
    }));

  test('a batch whose answer was lost is retried: every update once', () =>
    withCuttingProxy(Number(new URL(herald.url).port), 1, async (url) => {
      const publisher = new Publisher({ hub: url, token, retryDelayMs: 20 });
      let ids: string[] = [];
      const seen = await following(async () => {
        ids = await publisher.publishBatch([{ topic: TOPIC, data: 'a' }, { topic: TOPIC, data: 'b' }, { topic: TOPIC, data: 'c' }]);
      }, 3);
      assert.equal(ids.length, 3);
      assert.deepEqual(seen, ids);
    }));

  test('without ids (mintIds: false) a lost answer is not retried', () =>
    withCuttingProxy(Number(new URL(herald.url).port), 1, async (url) => {
      const publisher = new Publisher({ hub: url, token, retryDelayMs: 20, mintIds: false });
      const error = await publisher.publish({ topic: TOPIC, data: 'once' }).catch((e: unknown) => e);
      assert.ok(error instanceof HeraldClientError && error.code === 'network');
    }));
});

describe('Publisher under --publish-rate', () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({ chat: false, publishRate: 1, publishBurst: 1 });
  });
  after(() => herald.close());

  test('429 is retried after Retry-After', { timeout: 20_000 }, async () => {
    const token = await mintPublisherToken(['*'], { key: PUBLISHER_KEY });
    const publisher = new Publisher({ hub: `${herald.url}/.well-known/mercure`, token, retryDelayMs: 10 });
    const first = await publisher.publish({ topic: TOPIC, data: '1' });
    const second = await publisher.publish({ topic: TOPIC, data: '2' });
    assert.notEqual(first, second);
    const impatient = new Publisher({ hub: `${herald.url}/.well-known/mercure`, token, retries: 0 });
    const error = await impatient.publish({ topic: TOPIC, data: '3' }).catch((e: unknown) => e);
    assert.ok(error instanceof HeraldClientError);
    assert.equal(error.code, 'rate_limited');
    assert.equal(typeof error.details.retryAfterMs, 'number');
  });
});
