// What a presented token must be before its signature is checked, and where it may
// come from: draft 08 keeps access tokens out of URLs (RFC 9700), so an access token
// (`typ` `at+jwt`) in the query is a malformed request; a 0.x token there still works
// for 0.x clients unless query tokens are off (--no-query-tokens, --mercure-profile
// draft). A token that is no compact JWS is a malformed presentation too (400
// invalid_request); one that parses but fails validation is an invalid token (401).
import { decodeJwt, decodeProtectedHeader, type ProtectedHeaderParameters } from 'jose';
import { HeraldError } from '../../errors.js';
import { invalidToken } from './claims.js';
import { malformedPresentation, type TokenSource } from './token.js';

/** `compat`: draft 08 access tokens and 0.x tokens side by side; `draft`: access tokens only, never in the URL. */
export type MercureProfile = 'compat' | 'draft';

export interface TokenPolicy {
  readonly profile: MercureProfile;
  /** False: any token in the URL is refused (always so under the draft profile). */
  readonly queryTokens: boolean;
}

/** Header `typ` `at+jwt` or `application/at+jwt`, case-insensitively (RFC 9068, RFC 7515 4.1.9). */
export function isAccessTokenHeader(header: ProtectedHeaderParameters): boolean {
  const typ = header.typ;
  return typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === 'at+jwt';
}

/** The token's header and unverified `iss`; HeraldError('invalid_request') when it is not a compact JWS with JSON header and claims. */
export function parseTokenShape(token: string): { header: ProtectedHeaderParameters; issuer: string | undefined } {
  try {
    const header = decodeProtectedHeader(token);
    const iss = decodeJwt(token).iss; // the claims must be a JSON object too; a JWE (five parts) fails here
    return { header, issuer: typeof iss === 'string' ? iss : undefined };
  } catch {
    throw malformedPresentation('the token is not a JWT (three base64url parts: a JSON header, JSON claims, a signature)');
  }
}

/** Before the cache: where the token came from. Throws HeraldError('invalid_request'). */
export function checkSource(token: string, source: TokenSource | undefined, policy: TokenPolicy): void {
  if (source !== 'query') return;
  if (policy.profile === 'draft' || !policy.queryTokens) {
    throw malformedPresentation('this hub does not accept tokens in the URL (--no-query-tokens or --mercure-profile draft): send them in the Authorization header or the cookie');
  }
  if (isAccessTokenHeader(parseTokenShape(token).header)) {
    throw malformedPresentation('an access token (typ at+jwt) must not be sent in the URL (draft 08, RFC 9700): send it in the Authorization header or the cookie');
  }
}

/** Before verification (a cache miss): the token's shape, and under the draft profile its type. Says whether it is an access token, and its unverified `iss`. */
export function checkShape(token: string, policy: TokenPolicy): { access: boolean; issuer: string | undefined } {
  const { header, issuer } = parseTokenShape(token);
  const access = isAccessTokenHeader(header);
  if (!access && policy.profile === 'draft') {
    throw invalidToken('invalid token: this hub accepts only JWT access tokens (header typ at+jwt; --mercure-profile draft)');
  }
  return { access, issuer };
}

/** Throws HeraldError('invalid_config') for a draft profile without a trusted issuer (draft 08: iss must equal a trusted issuer). */
export function checkProfileConfig(policy: TokenPolicy, issuers: readonly string[]): void {
  if (policy.profile === 'draft' && issuers.length === 0) {
    throw new HeraldError('invalid_config', '--mercure-profile draft needs the trusted issuer: set --jwt-issuer (or --jwt-issuers-file)');
  }
}
