// Verification keys from a JSON Web Key Set at a URL (an identity provider's
// jwks_uri). jose keeps the set in memory: it is fetched on first use, again once
// older than `cacheMaxAgeMs`, and early when a token names a key id the set lacks
// (at most once per `cooldownMs`, so forged kids cannot make Herald hammer the
// provider). A set that cannot be fetched refuses tokens; it never lets one through.
import { createRemoteJWKSet, errors, type JWSHeaderParameters, type FlattenedJWSInput, type CryptoKey } from 'jose';
import { HeraldError } from '../../errors.js';

export interface KeySetOptions {
  /** Keys older than this are fetched again. Default 10 minutes. */
  readonly cacheMaxAgeMs?: number;
  /** Least time between two fetches caused by an unknown key id. Default 30 s. */
  readonly cooldownMs?: number;
  /** A fetch slower than this fails (and the token with it). Default 5 s. */
  readonly timeoutMs?: number;
}

export type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

/** Only public-key algorithms: a key set never holds HMAC secrets. */
export const KEY_SET_ALGORITHMS: readonly string[] = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
];

/** Throws HeraldError('invalid_config') for a URL that is not http(s). */
export function createKeySet(url: string, options: KeySetOptions = {}): KeyResolver {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HeraldError('invalid_config', `The JWKS URL ${JSON.stringify(url)} is not an absolute URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new HeraldError('invalid_config', `The JWKS URL must be http(s), not ${parsed.protocol}`);
  }
  const remote = createRemoteJWKSet(parsed, {
    cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
    cooldownDuration: options.cooldownMs ?? 30_000,
    timeoutDuration: options.timeoutMs ?? 5_000,
  });
  return (header, token) => remote(header, token);
}

/** Why a key set refused a token, for the 401 (undefined: not a key set failure). */
export function keySetReason(error: unknown): string | undefined {
  if (error instanceof errors.JWKSNoMatchingKey) return 'invalid token: no key of the key set matches its "kid" and "alg"';
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'invalid token: several keys of the key set match; name one with "kid"';
  if (error instanceof errors.JWKSTimeout) return 'the key set could not be fetched in time; try again';
  if (error instanceof errors.JWKSInvalid) return 'the key set is not a valid JWKS; tokens cannot be verified';
  if (error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC') return 'the key set could not be fetched; tokens cannot be verified';
  // fetch() itself failing (connection refused, DNS) is a TypeError.
  if (error instanceof TypeError && /fetch/i.test(error.message)) return 'the key set could not be fetched; tokens cannot be verified';
  return undefined;
}
