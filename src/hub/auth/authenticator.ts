// JWT authorization for publishers and subscribers (draft 08 access tokens, and Mercure
// 0.x and 1.0 tokens in the compat profile), with jose: the configured algorithm only
// (never `none`), exp/nbf honoured, and verified tokens cached until they expire
// because verification sits on the publish hot path. Keys come from options or a JWKS
// URL (key-material.ts, jwks.ts), and per trusted issuer from --jwt-issuers-file
// (issuers.ts); what a token must look like and where it may come from is token-policy.ts.
// HMAC signatures are checked by WebCrypto's verify (a constant-time comparison); the
// cache is keyed by a SHA-256 digest of the token, so no lookup compares token text.
import { createHash, hash } from 'node:crypto';
import { errors, jwtVerify, type JWTVerifyOptions } from 'jose';
import { HeraldError } from '../../errors.js';
import { HUB_PATH } from '../mercure-paths.js';
import { claimsFromPayload, invalidToken, type Claims } from './claims.js';
import type { IssuerKeys } from './issuers.js';
import { keySetReason, type KeySetOptions } from './jwks.js';
import { allowedAlgorithms, canVerify, loadKeyMaterial, reason, verificationKey, type KeyMaterial, type Role } from './key-material.js';
import { checkProfileConfig, checkShape, checkSource, type MercureProfile } from './token-policy.js';
import type { TokenSource } from './token.js';

export { canPublish, canReceive, MERCURE_DETAIL_TYPE, payloadFor, type Claims } from './claims.js';
export { carriesCookieCredentials, DRAFT_COOKIE_NAME, extractCredentials, extractToken, type Credentials, type TokenRequest, type TokenSource } from './token.js';
export type { MercureProfile } from './token-policy.js';

export type { Role } from './key-material.js';
export { readIssuersFile, type IssuerKeys } from './issuers.js';

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
  /**
   * `compat` (default): 0.x tokens keep the 0.x rules beside draft 08 access tokens.
   * `draft`: only access tokens (typ at+jwt, so exp, iss and aud are required), never
   * in the URL, and a trusted issuer must be configured (token-policy.ts).
   */
  profile?: MercureProfile;
  /** Tokens in the URL (`access_token`, `authorization`): 0.x tokens only, never an access token. Default true. */
  queryTokens?: boolean;
  /**
   * More trusted issuers, each with its own keys (--jwt-issuers-file): a token whose
   * `iss` names one is verified with that issuer's keys only, and must carry that `iss`.
   */
  issuers?: IssuerKeys;
  /** Verified tokens kept per role (oldest dropped first). Default 1000. */
  cacheSize?: number;
  /** Milliseconds since the epoch; injectable for tests. Default Date.now. */
  now?: () => number;
}

export interface Authenticator {
  /**
   * Resolves to what the token grants; rejects with HeraldError('unauthorized') (401
   * invalid_token) saying why it is refused, or HeraldError('invalid_request') (400) for
   * a token that is no JWT or that came from where it may not (`source`).
   */
  verify(token: string, role: Role, source?: TokenSource): Promise<Claims>;
  /**
   * The claims of a token verified before and not expired, without a promise (the
   * publish path's common case); undefined when verify() has to decide. Never refuses:
   * whatever it does not know, verify() answers exactly as before. Only for a token
   * from the Authorization header: where a token came from is checked by verify().
   */
  cached?(token: string, role: Role): Claims | undefined;
}

/** Larger tokens are refused before any work (and never fill the cache). */
const MAX_TOKEN_LENGTH = 16 * 1024;

/** The cache key: crypto.hash (Node 20.12+) is one call and one string, no Hash object. */
const digest: (token: string) => string =
  typeof hash === 'function' ? (token) => hash('sha256', token, 'base64') : (token) => createHash('sha256').update(token).digest('base64');

/** Throws HeraldError('invalid_config') for an unknown algorithm or a key that cannot be loaded. */
export async function createAuthenticator(opts: AuthOptions): Promise<Authenticator> {
  // The options' keys: bound to --jwt-issuer when it is set (and, in the compat profile, to any issuer the file does not list).
  const main = await loadKeyMaterial({ publisherKey: opts.publisherKey, subscriberKey: opts.subscriberKey, algorithm: opts.algorithm, jwksUrl: opts.jwksUrl, jwks: opts.jwks });
  const byIssuer = new Map<string, KeyMaterial>();
  for (const [issuer, spec] of Object.entries(opts.issuers ?? {})) {
    if (issuer === opts.issuer) throw new HeraldError('invalid_config', `--jwt-issuers-file lists ${JSON.stringify(issuer)}, which is --jwt-issuer (the options' keys): keep one`);
    byIssuer.set(issuer, await loadKeyMaterial({ ...spec, jwks: opts.jwks }, ` of issuer ${JSON.stringify(issuer)}`));
  }
  const now = opts.now ?? Date.now;
  const cacheSize = opts.cacheSize ?? 1000;
  const policy = { profile: opts.profile ?? 'compat', queryTokens: opts.queryTokens ?? true } as const;
  checkProfileConfig(policy, [...(opts.issuer === undefined ? [] : [opts.issuer]), ...byIssuer.keys()]);
  const audience = opts.audience ?? `${opts.hubUrl}${HUB_PATH}`;
  const accessTokenRules = (issuer: string | undefined): JWTVerifyOptions => ({
    typ: 'at+jwt',
    audience,
    requiredClaims: ['exp', 'iss', 'aud'],
    ...(issuer === undefined ? {} : { issuer }),
  });

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
    async verify(token, role, source) {
      if (!canVerify(main, role) && byIssuer.size === 0) throw new HeraldError('unauthorized', `No key is configured to verify ${role} tokens`);
      if (token.length > MAX_TOKEN_LENGTH) throw invalidToken(`invalid token: longer than ${MAX_TOKEN_LENGTH} characters`);
      // Before the cache: a token verified from a header is still refused from a URL.
      checkSource(token, source, policy);
      const cache = caches[role];
      const cacheKey = digest(token);
      const cached = lookup(cache, cacheKey);
      if (cached !== undefined) return cached;
      const shape = checkShape(token, policy);
      // The unverified `iss` only chooses whose keys to try; jwtVerify then checks it is that issuer.
      const listed = shape.issuer === undefined ? undefined : byIssuer.get(shape.issuer);
      const material = listed ?? main;
      // The draft profile binds the options' keys to --jwt-issuer only: without it they verify no token.
      if (listed === undefined && policy.profile === 'draft' && opts.issuer === undefined) {
        throw invalidToken(`invalid token: the issuer ${JSON.stringify((shape.issuer ?? '').slice(0, 200))} is not trusted`);
      }
      if (!canVerify(material, role)) {
        throw invalidToken(listed !== undefined || shape.issuer === undefined ? `invalid token: no key verifies ${role} tokens of this issuer` : `invalid token: the issuer ${JSON.stringify(shape.issuer.slice(0, 200))} is not trusted`);
      }
      const issuer = listed !== undefined ? shape.issuer : opts.issuer;
      let payload: Record<string, unknown>;
      try {
        const rules = shape.access ? accessTokenRules(issuer) : listed !== undefined ? { issuer } : {};
        const options = { algorithms: allowedAlgorithms(material, role), currentDate: new Date(now()), ...rules };
        const key = verificationKey(material, role);
        // Two calls: jwtVerify's overloads take a key or a resolver, not their union.
        ({ payload } = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options));
      } catch (error) {
        if (error instanceof HeraldError) throw error;
        throw invalidToken(keySetReason(error) ?? joseReason(error, allowedAlgorithms(material, role).join(', ')));
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
