import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERRORS, HeraldError } from './errors.js';

test('every error code is documented in docs/errors.md with its status', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  for (const [code, { status }] of Object.entries(ERRORS)) {
    assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${status} \\|`), `${code} (${status}) is missing from docs/errors.md`);
  }
});

test('a HeraldError carries its code, status, headers and details', () => {
  const error = new HeraldError('rate_limited', 'slow down', { 'Retry-After': '2' }, { stored: ['a'] });
  assert.equal(error.status, 429);
  assert.equal(error.code, 'rate_limited');
  assert.equal(error.message, 'slow down');
  assert.deepEqual(error.headers, { 'Retry-After': '2' });
  assert.deepEqual(error.details, { stored: ['a'] });
  assert.equal(new HeraldError('not_found').message, ERRORS.not_found.message);
});
