// --jwt-issuers-file: the trusted issuers, each with its own keys, so a token is
// verified only with the keys of the issuer its `iss` names (draft 08, Token
// Validation: never a pooled set spanning issuers). A JSON object:
//   { "https://idp.example": { "jwksUrl": "https://idp.example/jwks.json" },
//     "https://app.example": { "alg": "HS256", "publisherKey": "...", "subscriberKey": "..." },
//     "https://svc.example": { "alg": "ES256", "key": "/etc/herald/svc.pem" } }
// `key` is both roles' key; `publisherKey` / `subscriberKey` set one role each (without
// `subscriberKey`, the publisher key verifies subscribers too, as with the options). Read
// once at start; a bad file stops the process with a message naming the entry.
import { readFile } from 'node:fs/promises';
import { HeraldError } from '../../errors.js';
import { reason, type KeySpec } from './key-material.js';

/** Bounds what a configuration file can make the hub hold. */
const MAX_ISSUERS = 100;
const FIELDS = new Set(['alg', 'key', 'publisherKey', 'subscriberKey', 'jwksUrl']);

export type IssuerKeys = Readonly<Record<string, KeySpec>>;

export async function readIssuersFile(path: string): Promise<IssuerKeys> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new HeraldError('invalid_config', `--jwt-issuers-file: cannot read ${JSON.stringify(path)} (${reason(error)})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new HeraldError('invalid_config', `--jwt-issuers-file: ${JSON.stringify(path)} is not JSON (${reason(error)})`);
  }
  return parseIssuers(parsed);
}

/** Throws HeraldError('invalid_config') naming the first bad entry. */
export function parseIssuers(value: unknown): IssuerKeys {
  const fail = (message: string): never => {
    throw new HeraldError('invalid_config', `--jwt-issuers-file: ${message}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('expected a JSON object mapping each issuer ("iss") to its keys');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) fail('no issuer is listed');
  if (entries.length > MAX_ISSUERS) fail(`at most ${MAX_ISSUERS} issuers, got ${entries.length}`);
  const issuers: Record<string, KeySpec> = {};
  for (const [issuer, raw] of entries) {
    const where = `issuer ${JSON.stringify(issuer)}`;
    if (issuer === '') fail('an issuer is the empty string');
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(`${where}: expected an object with "alg" and "key", "publisherKey", "subscriberKey" or "jwksUrl"`);
    const entry = raw as Record<string, unknown>;
    for (const [name, field] of Object.entries(entry)) {
      if (!FIELDS.has(name)) fail(`${where}: unknown field ${JSON.stringify(name)} (use ${[...FIELDS].join(', ')})`);
      if (typeof field !== 'string' || field === '') fail(`${where}: "${name}" must be a non-empty string`);
    }
    const text = (name: string): string | undefined => entry[name] as string | undefined;
    if (text('key') !== undefined && (text('publisherKey') !== undefined || text('subscriberKey') !== undefined)) fail(`${where}: "key" is both roles' key; do not also set "publisherKey" or "subscriberKey"`);
    const publisherKey = text('key') ?? text('publisherKey');
    const subscriberKey = text('key') ?? text('subscriberKey');
    if (publisherKey === undefined && subscriberKey === undefined && text('jwksUrl') === undefined) fail(`${where}: no key: set "key", "publisherKey", "subscriberKey" or "jwksUrl"`);
    // As with the options: without a subscriber key, subscribers' tokens are checked with the publisher key.
    issuers[issuer] = { algorithm: text('alg') ?? 'HS256', publisherKey, subscriberKey, jwksUrl: text('jwksUrl') };
  }
  return issuers;
}
