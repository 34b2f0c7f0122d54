// The keys one issuer's tokens are verified with: an algorithm and a key per role
// (HMAC secret or PEM public key), and/or a JWKS URL for public-key tokens. The
// authenticator holds one set for the options' keys and, with --jwt-issuers-file, one
// per trusted issuer (draft 08: every key bound to its issuer, never a pooled set).
import { readFile } from 'node:fs/promises';
import { importSPKI, importX509, type CryptoKey, type FlattenedJWSInput, type JWSHeaderParameters } from 'jose';
import { HeraldError } from '../../errors.js';
import { invalidToken } from './claims.js';
import { createKeySet, KEY_SET_ALGORITHMS, type KeyResolver, type KeySetOptions } from './jwks.js';

export type Role = 'publisher' | 'subscriber';
export type VerificationKey = CryptoKey | Uint8Array;

export const ALGORITHMS = new Set([
  'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
]);

export interface KeySpec {
  /** HS*: the shared secret. RS*, PS*, ES*, EdDSA: a PEM public key (SPKI) or certificate, as text or as a file path. */
  readonly publisherKey?: string | undefined;
  /** Same forms; unset, subscribers' tokens are checked with publisherKey. */
  readonly subscriberKey?: string | undefined;
  /** The one accepted `alg` for these keys. */
  readonly algorithm: string;
  readonly jwksUrl?: string | undefined;
  readonly jwks?: KeySetOptions | undefined;
}

export interface KeyMaterial {
  readonly algorithm: string;
  readonly keys: Readonly<Record<Role, VerificationKey | undefined>>;
  readonly keySet: KeyResolver | undefined;
}

/** Throws HeraldError('invalid_config') for an unknown algorithm or a key that cannot be loaded; `whose` names the set in messages. */
export async function loadKeyMaterial(spec: KeySpec, whose = ''): Promise<KeyMaterial> {
  const algorithm = spec.algorithm === '' ? 'HS256' : spec.algorithm;
  if (!ALGORITHMS.has(algorithm)) {
    throw new HeraldError('invalid_config', `Unsupported JWT algorithm ${JSON.stringify(algorithm)}${whose} (use one of ${[...ALGORITHMS].join(', ')})`);
  }
  const publisher = spec.publisherKey === undefined ? undefined : await loadKey(spec.publisherKey, algorithm, `publisher${whose}`);
  const subscriber = spec.subscriberKey === undefined ? publisher : await loadKey(spec.subscriberKey, algorithm, `subscriber${whose}`);
  const keySet = spec.jwksUrl === undefined || spec.jwksUrl === '' ? undefined : createKeySet(spec.jwksUrl, spec.jwks);
  return { algorithm, keys: { publisher, subscriber }, keySet };
}

/** True when the set can verify some token of the role. */
export function canVerify(material: KeyMaterial, role: Role): boolean {
  return material.keys[role] !== undefined || material.keySet !== undefined;
}

export function allowedAlgorithms(material: KeyMaterial, role: Role): string[] {
  const fromKey = material.keys[role] === undefined ? [] : [material.algorithm];
  return material.keySet === undefined ? fromKey : [...new Set([...fromKey, ...KEY_SET_ALGORITHMS])];
}

/** What jwtVerify is given: the role's key, or a resolver (the role's key for its algorithm without `kid`, the key set otherwise). */
export function verificationKey(material: KeyMaterial, role: Role): VerificationKey | ((header: JWSHeaderParameters, input: FlattenedJWSInput) => Promise<CryptoKey> | VerificationKey) {
  const key = material.keys[role];
  const keySet = material.keySet;
  if (keySet === undefined) return key as VerificationKey;
  return (header, input) => {
    if (key !== undefined && header.alg === material.algorithm && header.kid === undefined) return key;
    if (typeof header.alg === 'string' && KEY_SET_ALGORITHMS.includes(header.alg)) return keySet(header, input);
    throw invalidToken(`invalid token: only ${allowedAlgorithms(material, role).join(', ')} tokens are accepted`);
  };
}

async function loadKey(value: string, algorithm: string, role: string): Promise<VerificationKey> {
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

export function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
