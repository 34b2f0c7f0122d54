import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HeraldError } from '../../errors.js';
import { bearerToken, extractCredentials, extractToken } from './token.js';

const malformed = (pattern: RegExp) => (e: unknown) => e instanceof HeraldError && e.code === 'invalid_request' && e.status === 400 && e.headers['WWW-Authenticate'] === 'Bearer error="invalid_request"' && pattern.test(e.message);

describe('extractToken', () => {
  it('follows the precedence header, then query, then cookie; a cookie is ignored beside either', () => {
    const all = {
      headers: { authorization: 'Bearer from-header' },
      query: { access_token: 'from-access-token' },
      cookies: { mercureAuthorization: 'from-cookie-0x', mercureAccessToken: 'from-cookie-1' },
    };
    assert.deepEqual(extractCredentials({ ...all, query: {} }), { token: 'from-header', source: 'header' });
    assert.deepEqual(extractCredentials({ ...all, headers: {} }), { token: 'from-access-token', source: 'query' });
    assert.equal(extractToken({ ...all, headers: {}, query: { authorization: 'from-authorization' } }), 'from-authorization');
    assert.equal(extractToken({ ...all, headers: {}, query: {} }), 'from-cookie-0x');
    assert.equal(extractToken({ headers: {}, query: {}, cookies: { mercureAccessToken: 'from-cookie-1' } }), 'from-cookie-1');
    assert.equal(extractToken({ headers: {}, query: {} }), undefined);
    assert.equal(extractToken({ headers: {}, query: undefined, cookies: {} }), undefined);
  });

  it('accepts the Bearer scheme case-insensitively, with a b64token', () => {
    assert.equal(extractToken({ headers: { authorization: 'bearer abc.DEF-_~+/=' }, query: {} }), 'abc.DEF-_~+/=');
    assert.equal(extractToken({ headers: { authorization: ['Bearer  a.b.c '] }, query: {} }), 'a.b.c');
  });

  it('refuses a malformed Authorization header instead of falling back', () => {
    for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'Bearer a b', 'a.b.c', '']) {
      assert.throws(() => extractToken({ headers: { authorization: header }, query: { access_token: 'q' } }), malformed(/Bearer <token>/), header);
    }
    assert.throws(() => extractToken({ headers: { authorization: ['Bearer a', 'Bearer b'] }, query: {} }), malformed(/single Authorization header/));
    // Node's `headers` keep the first of two; its rawHeaders show both.
    const raw = { rawHeaders: ['Host', 'h', 'Authorization', 'Bearer a', 'AUTHORIZATION', 'Bearer b'] };
    assert.throws(() => extractToken({ headers: { authorization: 'Bearer a' }, query: {}, raw }), malformed(/single Authorization header/));
    assert.equal(extractToken({ headers: { authorization: 'Bearer a' }, query: {}, raw: { rawHeaders: ['Authorization', 'Bearer a'] } }), 'a');
  });

  it('refuses two explicit presentations: the header and a query token, or both query names', () => {
    assert.throws(() => extractToken({ headers: { authorization: 'Bearer a' }, query: { access_token: 'q' } }), malformed(/not also in the URL/));
    assert.throws(() => extractToken({ headers: {}, query: { access_token: 'a', authorization: 'b' } }), malformed(/both "access_token" and "authorization"/));
  });

  it('treats empty values as absent and refuses ambiguous repeated query parameters', () => {
    assert.equal(extractToken({ headers: {}, query: { access_token: '', authorization: 'b' } }), 'b');
    assert.equal(extractToken({ headers: {}, query: { access_token: ['', 'a'] } }), 'a');
    assert.equal(extractToken({ headers: {}, query: {}, cookies: { mercureAuthorization: '', mercureAccessToken: 'c' } }), 'c');
    assert.throws(() => extractToken({ headers: {}, query: { access_token: ['a', 'b'] } }), malformed(/single "access_token"/));
  });

  it('uses configured cookie names', () => {
    const request = { headers: {}, query: {}, cookies: { mercureAuthorization: 'default', hubB: 'mine' } };
    assert.equal(extractToken(request, { cookieNames: ['hubB'] }), 'mine');
  });
});

test('bearerToken reads exactly what /^Bearer +([A-Za-z0-9\\-._~+/]+=*) *$/i matches', () => {
  const reference = (value: string): string | undefined => /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(value)?.[1];
  const pieces = fc.constantFrom('Bearer', 'bearer', 'BEARER', 'BeArEr', 'Basic', ' ', '  ', 'a', 'Z', '0', '-', '.', '_', '~', '+', '/', '=', '==', '\t', '\u017f', '\u212a', 'é', '\r\n', ',', ':', '');
  const value = fc.array(pieces, { maxLength: 8 }).map((parts) => parts.join(''));
  fc.assert(fc.property(value, (v) => bearerToken(v) === reference(v)), { numRuns: 20000 });
  for (const v of ['Bearer abc', 'Bearer  abc==  ', 'bearer a', 'Bearer', 'Bearer ', 'Bearer =', 'Bearer a=b', 'Bearerabc', ' Bearer a']) {
    assert.equal(bearerToken(v), reference(v), v);
  }
});
