import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HeraldError } from '../../errors.js';
import { parseIssuers } from './issuers.js';

const refused = (pattern: RegExp) => (error: unknown) => error instanceof HeraldError && error.code === 'invalid_config' && pattern.test(error.message);

describe('parseIssuers (--jwt-issuers-file)', () => {
  it('reads each issuer\'s keys: key for both roles, one role each, a JWKS URL', () => {
    assert.deepEqual(parseIssuers({
      'https://a.example': { alg: 'ES256', key: 'PEM-A' },
      'https://b.example': { publisherKey: 'pub', subscriberKey: 'sub' },
      'https://c.example': { jwksUrl: 'https://c.example/jwks.json' },
    }), {
      'https://a.example': { algorithm: 'ES256', publisherKey: 'PEM-A', subscriberKey: 'PEM-A', jwksUrl: undefined },
      'https://b.example': { algorithm: 'HS256', publisherKey: 'pub', subscriberKey: 'sub', jwksUrl: undefined },
      'https://c.example': { algorithm: 'HS256', publisherKey: undefined, subscriberKey: undefined, jwksUrl: 'https://c.example/jwks.json' },
    });
  });

  it('refuses what it cannot use, naming the entry', () => {
    assert.throws(() => parseIssuers([]), refused(/JSON object/));
    assert.throws(() => parseIssuers({}), refused(/no issuer/));
    assert.throws(() => parseIssuers({ 'https://a': 'secret' }), refused(/issuer "https:\/\/a": expected an object/));
    assert.throws(() => parseIssuers({ 'https://a': { alg: 'HS256' } }), refused(/"https:\/\/a": no key/));
    assert.throws(() => parseIssuers({ 'https://a': { key: 'k', jku: 'x' } }), refused(/unknown field "jku"/));
    assert.throws(() => parseIssuers({ 'https://a': { key: 7 } }), refused(/"key" must be a non-empty string/));
    assert.throws(() => parseIssuers({ 'https://a': { key: 'k', publisherKey: 'p' } }), refused(/both roles/));
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`https://${i}.example`, { key: 'k' }]));
    assert.throws(() => parseIssuers(many), refused(/at most 100 issuers/));
  });
});
