import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWTPayload } from 'jose';
import { HeraldError } from '../../errors.js';
import { createAuthenticator, type Authenticator } from './authenticator.js';

const HUB = 'https://hub.example/.well-known/mercure';
const SECRET = 'a-shared-secret-of-at-least-32-bytes!';
const T0 = Date.UTC(2030, 0, 1);
const seconds = (ms: number): number => Math.floor(ms / 1000);

interface Pair {
  privateKey: CryptoKey;
  pem: string;
  file: string;
}

let dir: string;
const pairs: Record<'RS256' | 'ES256' | 'EdDSA', Pair> = {} as Record<'RS256' | 'ES256' | 'EdDSA', Pair>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'herald-auth-'));
  for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const pem = await exportSPKI(publicKey);
    const file = join(dir, `${alg}.pem`);
    await writeFile(file, pem);
    pairs[alg] = { privateKey, pem, file };
  }
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function sign(payload: JWTPayload, key: CryptoKey | Uint8Array | string, alg = 'HS256'): Promise<string> {
  const material = typeof key === 'string' ? new TextEncoder().encode(key) : key;
  return new SignJWT(payload).setProtectedHeader({ alg }).sign(material);
}

function refused(pattern: RegExp): (error: unknown) => boolean {
  return (error) =>
    error instanceof HeraldError &&
    error.code === 'unauthorized' &&
    error.headers['WWW-Authenticate'] === 'Bearer error="invalid_token"' &&
    pattern.test(error.message);
}

describe('createAuthenticator: keys and algorithms', () => {
  it('verifies HS256 tokens with a shared secret', async () => {
    const auth = await createAuthenticator({ publisherKey: SECRET, algorithm: 'HS256', hubUrl: HUB, now: () => T0 });
    const claims = await auth.verify(await sign({ sub: 'alice', exp: seconds(T0) + 60, mercure: { publish: ['*'] } }, SECRET), 'publisher');
    assert.equal(claims.subject, 'alice');
    assert.equal(claims.expiresAt, (seconds(T0) + 60) * 1000);
    assert.equal(claims.publish?.hasAny, true);
    assert.equal(claims.subscribe, null);
  });

  for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
    it(`verifies ${alg} tokens with a PEM public key given as text or as a file`, async () => {
      const pair = pairs[alg];
      const token = await sign({ mercure: { subscribe: ['https://example.com/{id}'] } }, pair.privateKey, alg);
      for (const key of [pair.pem, pair.file]) {
        const auth = await createAuthenticator({ subscriberKey: key, algorithm: alg, hubUrl: HUB });
        const claims = await auth.verify(token, 'subscriber');
        assert.equal(claims.subscribe?.matches('https://example.com/7'), true);
        assert.equal(claims.subscribe?.matches('https://example.com/7/8'), false);
      }
    });
  }

  it('refuses a token signed with another key', async () => {
    const hs = await createAuthenticator({ publisherKey: SECRET, algorithm: 'HS256', hubUrl: HUB });
    await assert.rejects(hs.verify(await sign({ mercure: { publish: ['*'] } }, 'another-secret-another-secret-xx'), 'publisher'), refused(/^invalid token: signature verification failed$/));
    const other = await generateKeyPair('RS256');
    const rs = await createAuthenticator({ publisherKey: pairs.RS256.pem, algorithm: 'RS256', hubUrl: HUB });
    await assert.rejects(rs.verify(await sign({ mercure: { publish: ['*'] } }, other.privateKey, 'RS256'), 'publisher'), refused(/signature verification failed/));
  });

  it('refuses alg none and any algorithm other than the configured one', async () => {
    const hs = await createAuthenticator({ publisherKey: SECRET, algorithm: 'HS256', hubUrl: HUB });
    const unsecured = new UnsecuredJWT({ mercure: { publish: ['*'] } }).encode();
    await assert.rejects(hs.verify(unsecured, 'publisher'), refused(/^invalid token: only HS256 tokens are accepted$/));
    // Algorithm confusion: an HS256 token keyed with the RS256 public key's PEM text.
    const rs = await createAuthenticator({ publisherKey: pairs.RS256.pem, algorithm: 'RS256', hubUrl: HUB });
    const confused = await sign({ mercure: { publish: ['*'] } }, pairs.RS256.pem, 'HS256');
    await assert.rejects(rs.verify(confused, 'publisher'), refused(/only RS256 tokens are accepted/));
    // No JWT at all is a malformed presentation (400 invalid_request), not an invalid token.
    await assert.rejects(hs.verify('not.a.jwt', 'publisher'), (error: unknown) => error instanceof HeraldError && error.code === 'invalid_request' && /not a JWT/.test(error.message));
    await assert.rejects(hs.verify('x'.repeat(17 * 1024), 'publisher'), refused(/longer than 16384 characters/));
  });

  it('honours exp and nbf against the injected clock', async () => {
    const auth = await createAuthenticator({ publisherKey: SECRET, algorithm: 'HS256', hubUrl: HUB, now: () => T0 });
    const expired = await sign({ exp: seconds(T0) - 1, mercure: { publish: ['*'] } }, SECRET);
    await assert.rejects(auth.verify(expired, 'publisher'), refused(/^token expired$/));
    const early = await sign({ nbf: seconds(T0) + 30, mercure: { publish: ['*'] } }, SECRET);
    await assert.rejects(auth.verify(early, 'publisher'), refused(/^token not yet valid$/));
    const noExp = await auth.verify(await sign({ mercure: { publish: ['*'] } }, SECRET), 'publisher');
    assert.equal(noExp.expiresAt, undefined);
  });

  it('falls back to the publisher key for subscribers, and keeps the roles apart otherwise', async () => {
    const shared = await createAuthenticator({ publisherKey: SECRET, algorithm: 'HS256', hubUrl: HUB });
    const token = await sign({ mercure: { subscribe: ['*'] } }, SECRET);
    assert.equal((await shared.verify(token, 'subscriber')).subscribe?.hasAny, true);
    const split = await createAuthenticator({ publisherKey: SECRET, subscriberKey: 'subscriber-secret-subscriber-secret', algorithm: 'HS256', hubUrl: HUB });
    const subscriberToken = await sign({ mercure: { publish: ['*'], subscribe: ['*'] } }, 'subscriber-secret-subscriber-secret');
    assert.equal((await split.verify(subscriberToken, 'subscriber')).subscribe?.hasAny, true);
    // Cached as a subscriber token, still refused as a publisher token.
    await assert.rejects(split.verify(subscriberToken, 'publisher'), refused(/signature verification failed/));
    const subscribersOnly = await createAuthenticator({ subscriberKey: SECRET, algorithm: 'HS256', hubUrl: HUB });
    await assert.rejects(subscribersOnly.verify(token, 'publisher'), (e: unknown) => e instanceof HeraldError && e.code === 'unauthorized' && /No key is configured to verify publisher tokens/.test(e.message));
  });

  it('refuses unusable configurations with invalid_config', async () => {
    const invalidConfig = (pattern: RegExp) => (e: unknown) => e instanceof HeraldError && e.code === 'invalid_config' && pattern.test(e.message);
    await assert.rejects(createAuthenticator({ publisherKey: SECRET, algorithm: 'none', hubUrl: HUB }), invalidConfig(/Unsupported JWT algorithm "none"/));
    await assert.rejects(createAuthenticator({ publisherKey: join(dir, 'missing.pem'), algorithm: 'RS256', hubUrl: HUB }), invalidConfig(/neither PEM text nor a readable file/));
    await assert.rejects(createAuthenticator({ publisherKey: pairs.ES256.pem, algorithm: 'RS256', hubUrl: HUB }), invalidConfig(/not a PEM public key usable with RS256/));
    await assert.rejects(createAuthenticator({ publisherKey: '', algorithm: 'HS256', hubUrl: HUB }), invalidConfig(/key is empty/));
  });
});

describe('Authenticator cache', () => {
  it('returns the same claims for a token until it expires, never after', async () => {
    let clock = T0;
    const auth: Authenticator = await createAuthenticator({ publisherKey: SECRET, algorithm: 'HS256', hubUrl: HUB, now: () => clock });
    const token = await sign({ exp: seconds(T0) + 10, mercure: { publish: ['https://example.com/{id}'] } }, SECRET);
    const first = await auth.verify(token, 'publisher');
    assert.equal(await auth.verify(token, 'publisher'), first);
    clock = T0 + 9_999;
    assert.equal(await auth.verify(token, 'publisher'), first);
    clock = T0 + 10_000;
    await assert.rejects(auth.verify(token, 'publisher'), refused(/^token expired$/));
  });

  it('is bounded: the oldest token is verified again once evicted', async () => {
    const auth = await createAuthenticator({ publisherKey: SECRET, algorithm: 'HS256', hubUrl: HUB, cacheSize: 2 });
    const tokens = await Promise.all([1, 2, 3].map((n) => sign({ sub: `user-${n}`, mercure: { publish: ['*'] } }, SECRET)));
    const [a, b, c] = tokens as [string, string, string];
    const claimsA = await auth.verify(a, 'publisher');
    const claimsB = await auth.verify(b, 'publisher');
    await auth.verify(c, 'publisher'); // evicts a
    assert.equal(await auth.verify(b, 'publisher'), claimsB);
    const again = await auth.verify(a, 'publisher');
    assert.notEqual(again, claimsA);
    assert.equal(again.subject, 'user-1');
  });

  it('answers cached() only for a token verified before, for that role, until it expires', async () => {
    let clock = T0;
    const auth = await createAuthenticator({ publisherKey: SECRET, algorithm: 'HS256', hubUrl: HUB, now: () => clock });
    const token = await sign({ exp: seconds(T0) + 10, mercure: { publish: ['*'] } }, SECRET);
    assert.equal(auth.cached?.(token, 'publisher'), undefined);
    const claims = await auth.verify(token, 'publisher');
    assert.equal(auth.cached?.(token, 'publisher'), claims);
    assert.equal(auth.cached?.(token, 'subscriber'), undefined);
    assert.equal(auth.cached?.(`${token}x`, 'publisher'), undefined);
    clock = T0 + 10_000;
    assert.equal(auth.cached?.(token, 'publisher'), undefined);
    await assert.rejects(auth.verify(token, 'publisher'), refused(/^token expired$/));
  });
});
