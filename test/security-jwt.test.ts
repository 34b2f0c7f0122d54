// JWT over HTTP: ES256 keys from options, a JWKS URL, exp/nbf, alg none, and publish
// selectors checked for every topic of an update.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { Herald } from '../src/herald.js';
import { hubUrl, mintToken, PUBLISHER_KEY, publish, startTestHerald, SUBSCRIBER_KEY } from './support/herald.js';
import { collect, rawStream } from './support/stream.js';

function es256(privateKey: CryptoKey, claims: Record<string, unknown>, header: Record<string, string> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', ...header }).setIssuedAt().sign(privateKey);
}

const errorOf = (body: string) => JSON.parse(body) as { error: string; message: string };

describe('ES256 keys from options, over HTTP', () => {
  let herald: Herald;
  let publisherKey: CryptoKey;
  let subscriberKey: CryptoKey;
  before(async () => {
    const publisher = await generateKeyPair('ES256');
    const subscriber = await generateKeyPair('ES256');
    publisherKey = publisher.privateKey;
    subscriberKey = subscriber.privateKey;
    herald = await startTestHerald({ jwtAlg: 'ES256', publisherJwtKey: await exportSPKI(publisher.publicKey), subscriberJwtKey: await exportSPKI(subscriber.publicKey), chat: false });
  });
  after(() => herald.close());

  test('an ES256 publisher publishes; HS256, foreign-key and alg-none tokens get 401', async () => {
    const ok = await publish(herald.url, { topic: 'https://example.com/es', data: 'x' }, await es256(publisherKey, { mercure: { publish: ['*'] } }));
    assert.equal(ok.status, 200, ok.body);
    const hs = await publish(herald.url, { topic: 'https://example.com/es' }, await mintToken({ mercure: { publish: ['*'] } }, PUBLISHER_KEY));
    assert.equal(hs.status, 401);
    assert.match(errorOf(hs.body).message, /only ES256 tokens are accepted/);
    const foreign = await publish(herald.url, { topic: 'https://example.com/es' }, await es256((await generateKeyPair('ES256')).privateKey, { mercure: { publish: ['*'] } }));
    assert.equal(foreign.status, 401);
    assert.match(errorOf(foreign.body).message, /signature verification failed/);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"mercure":{"publish":["*"]}}').toString('base64url')}.`;
    assert.equal((await publish(herald.url, { topic: 'https://example.com/es' }, none)).status, 401);
    // The subscriber key is not the publisher key: a subscriber token cannot publish.
    assert.equal((await publish(herald.url, { topic: 'https://example.com/es' }, await es256(subscriberKey, { mercure: { publish: ['*'] } }))).status, 401);
  });

  test('a private update reaches the ES256 subscriber whose claim covers it, and only that one', async () => {
    const topic = 'https://example.com/es/private';
    const granted = collect(hubUrl(herald.url, [['topic', topic]]), { token: await es256(subscriberKey, { mercure: { subscribe: [topic] } }) });
    const other = collect(hubUrl(herald.url, [['topic', topic]]), { token: await es256(subscriberKey, { mercure: { subscribe: ['https://example.com/else'] } }) });
    try {
      await Promise.all([granted.opened, other.opened]);
      const token = await es256(publisherKey, { mercure: { publish: [topic] } });
      const secret = await publish(herald.url, [['topic', topic], ['data', 'secret'], ['private', 'on']], token);
      const open = await publish(herald.url, [['topic', topic], ['data', 'public']], token);
      assert.deepEqual((await granted.waitFor(2)).map((e) => [e.id, e.data]), [[secret.body, 'secret'], [open.body, 'public']]);
      assert.deepEqual((await other.waitFor(1)).map((e) => [e.id, e.data]), [[open.body, 'public']]);
    } finally {
      granted.close();
      other.close();
    }
  });
});

describe('exp, nbf and publish selectors, over HTTP', () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({ chat: false });
  });
  after(() => herald.close());

  test('an expired token gets 401 "token expired" on publish and subscribe', async () => {
    const past = Math.floor(Date.now() / 1000) - 60;
    const publisher = await mintToken({ mercure: { publish: ['*'] }, exp: past }, PUBLISHER_KEY);
    const published = await publish(herald.url, { topic: 'https://example.com/t' }, publisher);
    assert.equal(published.status, 401);
    assert.equal(errorOf(published.body).message, 'token expired');
    assert.match(published.headers.get('www-authenticate') ?? '', /invalid_token/);
    const subscriber = await mintToken({ mercure: { subscribe: ['*'] }, exp: past }, SUBSCRIBER_KEY);
    const stream = await fetch(hubUrl(herald.url, [['topic', 'x']]), { headers: { Authorization: `Bearer ${subscriber}` } });
    assert.equal(stream.status, 401);
    assert.equal(errorOf(await stream.text()).message, 'token expired');
  });

  test('a token not yet valid (nbf in the future) gets 401 "token not yet valid"', async () => {
    const future = Math.floor(Date.now() / 1000) + 3600;
    const result = await publish(herald.url, { topic: 'https://example.com/t' }, await mintToken({ mercure: { publish: ['*'] }, nbf: future }, PUBLISHER_KEY));
    assert.equal(result.status, 401);
    assert.equal(errorOf(result.body).message, 'token not yet valid');
  });

  test('every topic of an update must be covered: one uncovered topic refuses the whole update', async () => {
    const stream = await rawStream(hubUrl(herald.url, [['topic', 'https://example.com/books/1']]));
    try {
      const narrow = await mintToken({ mercure: { publish: ['https://example.com/books/{id}'] } }, PUBLISHER_KEY);
      const mixed = await publish(herald.url, [['topic', 'https://example.com/books/1'], ['topic', 'https://example.com/authors/1'], ['data', 'leak']], narrow);
      assert.equal(mixed.status, 403, 'insufficient_scope (draft 08)');
      assert.match(errorOf(mixed.body).message, /authors\/1/);
      const batch = await fetch(`${herald.url}/.well-known/mercure`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${narrow}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ updates: [{ topic: 'https://example.com/books/1', data: 'leak' }, { topic: 'https://example.com/authors/2', data: 'leak' }] }),
      });
      assert.equal(batch.status, 403);
      const fine = await publish(herald.url, [['topic', 'https://example.com/books/1'], ['data', 'marker']], narrow);
      assert.equal(fine.status, 200);
      const text = await stream.waitForText('data: marker');
      assert.ok(!text.includes('leak'), text);
    } finally {
      stream.close();
    }
  });
});

describe('a JWKS URL, over HTTP', () => {
  test('publishers and subscribers with tokens from the key set; the set is fetched once', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    let fetches = 0;
    const jwks = createServer(async (_request, response) => {
      fetches++;
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' }] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    const herald = await startTestHerald({ publisherJwtKey: undefined, subscriberJwtKey: undefined, jwksUrl, chat: false });
    const topic = 'https://example.com/jwks';
    const stream = collect(hubUrl(herald.url, [['topic', topic]]), { token: await es256(privateKey, { mercure: { subscribe: [topic] } }, { kid: 'idp-1' }) });
    try {
      await stream.opened;
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const token = await es256(privateKey, { mercure: { publish: [topic] }, jti: `p${i}` }, { kid: 'idp-1' });
        const result = await publish(herald.url, [['topic', topic], ['data', `n${i}`], ['private', '1']], token);
        assert.equal(result.status, 200, result.body);
        ids.push(result.body);
      }
      assert.deepEqual((await stream.waitFor(3)).map((e) => e.id), ids);
      assert.equal(fetches, 1);
      const unsigned = await publish(herald.url, [['topic', topic]], await mintToken({ mercure: { publish: ['*'] } }, PUBLISHER_KEY));
      assert.equal(unsigned.status, 401, 'no HMAC key is configured for publishers');
    } finally {
      stream.close();
      await herald.close();
      await new Promise<void>((resolve) => jwks.close(() => resolve()));
    }
  });
});
