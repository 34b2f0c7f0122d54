// JWT authorization for publishers and subscribers (Mercure 0.x and 1.0 tokens), with
// jose: the configured algorithm only (never `none`), exp/nbf honoured, and verified
// tokens cached until they expire because verification sits on the publish hot path.
// Keys come from options, or from a JWKS URL (auth-jwks.ts) for public-key tokens.
// HMAC signatures are checked by WebCrypto's verify (a constant-time comparison); the
// cache is keyed by a SHA-256 digest of the token, so no lookup compares token text.
import { createHash, hash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { decodeProtectedHeader, errors, importSPKI, importX509, jwtVerify, type CryptoKey, type FlattenedJWSInput, type JWSHeaderParameters, type JWTVerifyOptions } from 'jose';
import { HeraldError } from '../../errors.js';
import { HUB_PATH } from '../mercure-paths.js';
import { claimsFromPayload, invalidToken, type Claims } from './claims.js';
import { createKeySet, KEY_SET_ALGORITHMS, keySetReason, type KeyResolver, type KeySetOptions } from './jwks.js';

export { canPublish, canReceive, payloadFor, type Claims } from './claims.js';
export { carriesCookieCredentials, extractCredentials, extractToken, type TokenRequest, type TokenSource } from './token.js';

export type Role = 'publisher' | 'subscriber';

export interface AuthOptions {
  /** HS*: the shared secret. RS*, PS*, ES*, EdDSA: a PEM public key (SPKI) or certificate, as text or as a file path. */
  publisherKey?: string;
  /** Same forms; unset, subscribers' tokens are checked with publisherKey (as Mercure does). */
  subscriberKey?: string;
  /** The one accepted `alg`, e.g. HS256 (the usual default), RS256, ES256, EdDSA. */
  algorithm: string;
  /** Relative topics and URL patterns in tokens resolve against it. */
  hubUrl: string;
  /**
   * For access tokens (header `typ` `at+jwt`, draft 08): the `iss` they must carry (unset:
   * any, but present), and the resource identifier their `aud` must name (default: the
   * hub URL, `<hubUrl>/.well-known/mercure`). Other tokens keep the 0.x rules.
   */
  issuer?: string;
  audience?: string;
  /**
   * A JWKS URL: tokens signed with a public-key algorithm are verified with its keys
   * (by `kid`), for both roles; a role's own key still verifies tokens of `algorithm`
   * that name no `kid`.
   */
  jwksUrl?: string;
  jwks?: KeySetOptions;
  /** Verified tokens kept per role (oldest dropped first). Default 1000. */
  cacheSize?: number;
  /** Milliseconds since the epoch; injectable for tests. Default Date.now. */
  now?: () => number;
}

export interface Authenticator {
  /** Resolves to what the token grants; rejects with HeraldError('unauthorized') saying why it is refused. */
  verify(token: string, role: Role): Promise<Claims>;
  /**
   * The claims of a token verified before and not expired, without a promise (the
   * publish path's common case); undefined when verify() has to decide. Never refuses:
   * whatever it does not know, verify() answers exactly as before.
   */
  cached?(token: string, role: Role): Claims | undefined;
}

type VerificationKey = CryptoKey | Uint8Array;

const ALGORITHMS = new Set([
  'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
]);
/** Larger tokens are refused before any work (and never fill the cache). */
const MAX_TOKEN_LENGTH = 16 * 1024;

/** The cache key: crypto.hash (Node 20.12+) is one call and one string, no Hash object. */
const digest: (token: string) => string =
  typeof hash === 'function' ? (token) => hash('sha256', token, 'base64') : (token) => createHash('sha256').update(token).digest('base64');

/** Throws HeraldError('invalid_config') for an unknown algorithm or a key that cannot be loaded. */
export async function createAuthenticator(opts: AuthOptions): Promise<Authenticator> {
  const algorithm = opts.algorithm === '' ? 'HS256' : opts.algorithm;
  if (!ALGORITHMS.has(algorithm)) {
    throw new HeraldError('invalid_config', `Unsupported JWT algorithm ${JSON.stringify(algorithm)} (use one of ${[...ALGORITHMS].join(', ')})`);
  }
  const publisherKey = opts.publisherKey === undefined ? undefined : await loadKey(opts.publisherKey, algorithm, 'publisher');
  const subscriberKey = opts.subscriberKey === undefined ? publisherKey : await loadKey(opts.subscriberKey, algorithm, 'subscriber');
  const keys: Record<Role, VerificationKey | undefined> = { publisher: publisherKey, subscriber: subscriberKey };
  const keySet = opts.jwksUrl === undefined || opts.jwksUrl === '' ? undefined : createKeySet(opts.jwksUrl, opts.jwks);
  const now = opts.now ?? Date.now;
  const cacheSize = opts.cacheSize ?? 1000;
  const accessTokenRules: JWTVerifyOptions = {
    typ: 'at+jwt',
    audience: opts.audience ?? `${opts.hubUrl}${HUB_PATH}`,
    requiredClaims: ['exp', 'iss', 'aud'],
    ...(opts.issuer === undefined ? {} : { issuer: opts.issuer }),
  };

  // One table per role (the two roles may have different keys), keyed by the token's
  // SHA-256: no lookup compares token text.
  const caches: Record<Role, Map<string, Claims>> = { publisher: new Map(), subscriber: new Map() };
  const lookup = (cache: Map<string, Claims>, cacheKey: string): Claims | undefined => {
    const cached = cache.get(cacheKey);
    if (cached === undefined) return undefined;
    if (cached.expiresAt === undefined || now() < cached.expiresAt) return cached;
    cache.delete(cacheKey); // expired: verify again, which reports why
    return undefined;
  };

  return {
    cached(token, role) {
      if (token.length > MAX_TOKEN_LENGTH) return undefined;
      return lookup(caches[role], digest(token));
    },
    async verify(token, role) {
      const key = keys[role];
      if (key === undefined && keySet === undefined) throw new HeraldError('unauthorized', `No key is configured to verify ${role} tokens`);
      if (token.length > MAX_TOKEN_LENGTH) throw invalidToken(`invalid token: longer than ${MAX_TOKEN_LENGTH} characters`);
      const cache = caches[role];
      const cacheKey = digest(token);
      const cached = lookup(cache, cacheKey);
      if (cached !== undefined) return cached;
      let payload: Record<string, unknown>;
      try {
        const algorithms = allowedAlgorithms(algorithm, key, keySet);
        const options = { algorithms, currentDate: new Date(now()), ...(isAccessToken(token) ? accessTokenRules : {}) };
        ({ payload } = keySet === undefined
          ? await jwtVerify(token, key as VerificationKey, options)
          : await jwtVerify(token, (header: JWSHeaderParameters, input: FlattenedJWSInput) => resolveKey(header, input, key, algorithm, keySet), options));
      } catch (error) {
        if (error instanceof HeraldError) throw error;
        throw invalidToken(keySetReason(error) ?? joseReason(error, allowedAlgorithms(algorithm, key, keySet).join(', ')));
      }
      const claims = claimsFromPayload(payload, opts.hubUrl);
      if (cache.size >= cacheSize) {
        const oldest = cache.keys().next();
        if (oldest.done !== true) cache.delete(oldest.value);
      }
      if (cacheSize > 0) cache.set(cacheKey, claims);
      return claims;
    },
  };
}

/** Header `typ` `at+jwt` or `application/at+jwt`, case-insensitively (RFC 9068); a malformed header is left to jwtVerify. */
function isAccessToken(token: string): boolean {
  try {
    const typ = decodeProtectedHeader(token).typ;
    return typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === 'at+jwt';
  } catch {
    return false;
  }
}

function allowedAlgorithms(algorithm: string, key: VerificationKey | undefined, keySet: KeyResolver | undefined): string[] {
  const fromKey = key === undefined ? [] : [algorithm];
  return keySet === undefined ? fromKey : [...new Set([...fromKey, ...KEY_SET_ALGORITHMS])];
}

/** The role's own key for its algorithm when the token names no key id; the key set otherwise. */
function resolveKey(header: JWSHeaderParameters, input: FlattenedJWSInput, key: VerificationKey | undefined, algorithm: string, keySet: KeyResolver): Promise<CryptoKey> | VerificationKey {
  if (key !== undefined && header.alg === algorithm && header.kid === undefined) return key;
  if (typeof header.alg === 'string' && KEY_SET_ALGORITHMS.includes(header.alg)) return keySet(header, input);
  throw invalidToken(`invalid token: only ${allowedAlgorithms(algorithm, key, keySet).join(', ')} tokens are accepted`);
}

async function loadKey(value: string, algorithm: string, role: Role): Promise<VerificationKey> {
  if (value === '') throw new HeraldError('invalid_config', `The ${role} JWT key is empty`);
  if (algorithm.startsWith('HS')) return new TextEncoder().encode(value);
  let pem = value;
  if (!value.includes('-----BEGIN')) {
    try {
      pem = await readFile(value, 'utf8');
    } catch (error) {
      throw new HeraldError('invalid_config', `The ${role} JWT key is neither PEM text nor a readable file (${reason(error)})`);
    }
  }
  try {
    return pem.includes('-----BEGIN CERTIFICATE') ? await importX509(pem, algorithm) : await importSPKI(pem, algorithm);
  } catch (error) {
    throw new HeraldError('invalid_config', `The ${role} JWT key is not a PEM public key usable with ${algorithm} (${reason(error)})`);
  }
}

/** A refusal reason for the client: specific enough to fix a token, never the key. */
function joseReason(error: unknown, algorithms: string): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    return error.claim === 'nbf' ? 'token not yet valid' : `invalid token: the "${error.claim}" claim is invalid`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'invalid token: signature verification failed';
  if (error instanceof errors.JOSEAlgNotAllowed) return `invalid token: only ${algorithms} tokens are accepted`;
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return `invalid token: malformed (${reason(error)})`;
  if (error instanceof errors.JOSEError) return `invalid token: ${reason(error)}`;
  return 'invalid token';
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
