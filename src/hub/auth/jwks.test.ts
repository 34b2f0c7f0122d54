// The JWKS key set behind the authenticator, against a key server on loopback.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { HeraldError } from '../../errors.js';
import { createAuthenticator } from './authenticator.js';

interface KeyServer {
  readonly url: string;
  fetches: number;
  keys: JWK[];
  status: number;
  close(): Promise<void>;
}

async function keyServer(): Promise<KeyServer> {
  const state = { fetches: 0, keys: [] as JWK[], status: 200 };
  const server: Server = createServer((_request, response) => {
    state.fetches++;
    response.writeHead(state.status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

async function signingKey(kid: string, alg: 'ES256' | 'RS256'): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

let serial = 0;
function token(key: { privateKey: CryptoKey }, kid: string, alg: string, claims: Record<string, unknown> = { mercure: { publish: ['*'] } }): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, kid }).setJti(`t${serial++}`).setIssuedAt().sign(key.privateKey);
}

const refused = (pattern: RegExp) => (error: unknown) => error instanceof HeraldError && error.code === 'unauthorized' && pattern.test(error.message);

describe('JWKS key set', () => {
  let server: KeyServer;
  before(async () => {
    server = await keyServer();
  });
  after(() => server.close());

  test('fetched once, cached for later tokens, refetched when a new kid appears (rotation)', async () => {
    const k1 = await signingKey('k1', 'ES256');
    const k2 = await signingKey('k2', 'RS256');
    server.keys = [k1.jwk];
    server.fetches = 0;
    const auth = await createAuthenticator({ algorithm: 'HS256', hubUrl: 'https://hub.example', jwksUrl: server.url, jwks: { cooldownMs: 0 } });
    for (let i = 0; i < 5; i++) assert.notEqual((await auth.verify(await token(k1, 'k1', 'ES256'), 'publisher')).publish, null);
    assert.equal(server.fetches, 1, 'five distinct tokens, one fetch');
    server.keys = [k2.jwk]; // the provider rotates: k1 is gone, k2 is new
    await auth.verify(await token(k2, 'k2', 'RS256'), 'subscriber');
    assert.equal(server.fetches, 2, 'the unknown kid caused one refetch');
    await assert.rejects(auth.verify(await token(k1, 'k1', 'ES256'), 'publisher'), refused(/no key of the key set matches/));
  });

  test('a set older than cacheMaxAgeMs is fetched again even for a known kid', async () => {
    const k1 = await signingKey('k1', 'ES256');
    server.keys = [k1.jwk];
    server.fetches = 0;
    const auth = await createAuthenticator({ algorithm: 'HS256', hubUrl: 'https://hub.example', jwksUrl: server.url, jwks: { cacheMaxAgeMs: 0 } });
    for (let i = 0; i < 3; i++) await auth.verify(await token(k1, 'k1', 'ES256'), 'publisher');
    assert.equal(server.fetches, 3, 'an expired cache is refreshed on use');
  });

  test('a token signed by another key under a known kid, an HMAC token, and alg none are refused', async () => {
    const k1 = await signingKey('k1', 'ES256');
    const impostor = await signingKey('k1', 'ES256');
    server.keys = [k1.jwk];
    const auth = await createAuthenticator({ algorithm: 'HS256', hubUrl: 'https://hub.example', jwksUrl: server.url, jwks: { cooldownMs: 0 } });
    await assert.rejects(auth.verify(await token(impostor, 'k1', 'ES256'), 'publisher'), refused(/signature verification failed/));
    const hmac = await new SignJWT({ mercure: { publish: ['*'] } }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('some-secret-some-secret-some-secret'));
    await assert.rejects(auth.verify(hmac, 'publisher'), refused(/only RS256.*tokens are accepted/));
    const none = `${Buffer.from('{"alg":"none","kid":"k1"}').toString('base64url')}.${Buffer.from('{"mercure":{"publish":["*"]}}').toString('base64url')}.`;
    await assert.rejects(auth.verify(none, 'publisher'), refused(/invalid token/));
  });

  test("a role's own key still verifies its algorithm's tokens beside the key set", async () => {
    const k1 = await signingKey('k1', 'ES256');
    server.keys = [k1.jwk];
    const secret = 'the-publisher-secret-the-publisher-secret';
    const auth = await createAuthenticator({ algorithm: 'HS256', publisherKey: secret, hubUrl: 'https://hub.example', jwksUrl: server.url });
    const hmac = await new SignJWT({ mercure: { publish: ['a'] } }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
    assert.equal((await auth.verify(hmac, 'publisher')).publish?.matches('a'), true);
    assert.equal((await auth.verify(await token(k1, 'k1', 'ES256'), 'publisher')).publish?.matches('b'), true);
  });

  test('an unreachable or broken key set refuses tokens with a 401 that says so', async () => {
    const k1 = await signingKey('k1', 'ES256');
    server.status = 500;
    const broken = await createAuthenticator({ algorithm: 'HS256', hubUrl: 'https://hub.example', jwksUrl: server.url });
    await assert.rejects(broken.verify(await token(k1, 'k1', 'ES256'), 'publisher'), refused(/key set could not be fetched/));
    server.status = 200;
    const gone = await keyServer();
    await gone.close(); // its port now refuses connections
    const unreachable = await createAuthenticator({ algorithm: 'HS256', hubUrl: 'https://hub.example', jwksUrl: gone.url });
    await assert.rejects(unreachable.verify(await token(k1, 'k1', 'ES256'), 'publisher'), refused(/key set could not be fetched/));
  });

  test('a JWKS URL that is not http(s) is a configuration error', async () => {
    await assert.rejects(createAuthenticator({ algorithm: 'HS256', hubUrl: 'https://hub.example', jwksUrl: 'file:///etc/passwd' }), (e: unknown) => e instanceof HeraldError && e.code === 'invalid_config');
  });
});
