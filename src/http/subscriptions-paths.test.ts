// Which resource a subscriptions API path names, per --subscriptions-format: the rule
// docs/mercure.md writes down, one row per case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeraldError } from '../errors.js';
import { resolveSubscriptionsPath } from './subscriptions-paths.js';

const S = '/.well-known/mercure/subscriptions';

test('draft: the three draft shapes; nothing of the 0.x ones', () => {
  assert.deepEqual(resolveSubscriptionsPath(S, 'draft', undefined), { shape: 'draft' });
  assert.deepEqual(resolveSubscriptionsPath(`${S}/urlpattern/https%3A%2F%2Fa%2F%3Aid`, 'draft', undefined), { shape: 'draft', matchType: 'urlpattern', match: 'https://a/:id' });
  assert.deepEqual(resolveSubscriptionsPath(`${S}/exact/urn%3Ax/urn%3Auuid%3A1`, 'draft', undefined), { shape: 'draft', matchType: 'exact', match: 'urn:x', subscriber: 'urn:uuid:1' });
  assert.deepEqual(resolveSubscriptionsPath(S, 'draft', 'application/ld+json'), { shape: 'draft' });
  for (const path of [`${S}/urn%3Ax`, `${S}/urn%3Ax/s`, `${S}/Exact/a/b`, `${S}/exact/a/b/c`, `${S}/`, `${S}/exact//b`, `${S}x`]) {
    assert.equal(resolveSubscriptionsPath(path, 'draft', undefined), undefined, path);
  }
});

test('0.x: only the 0.x shapes, whatever the first segment says', () => {
  assert.deepEqual(resolveSubscriptionsPath(S, '0.x', undefined), { shape: '0.x' });
  assert.deepEqual(resolveSubscriptionsPath(`${S}/urn%3Ax`, '0.x', undefined), { shape: '0.x', topic: 'urn:x' });
  assert.deepEqual(resolveSubscriptionsPath(`${S}/exact/s`, '0.x', undefined), { shape: '0.x', topic: 'exact', subscriber: 's' });
  assert.equal(resolveSubscriptionsPath(`${S}/exact/a/b`, '0.x', undefined), undefined);
});

test('both: a first segment naming a matcher type is the draft; the bare collection is the draft unless JSON-LD is asked for', () => {
  assert.deepEqual(resolveSubscriptionsPath(S, 'both', undefined), { shape: 'draft' });
  assert.deepEqual(resolveSubscriptionsPath(S, 'both', 'application/ld+json, */*'), { shape: '0.x' });
  assert.deepEqual(resolveSubscriptionsPath(`${S}/exact`, 'both', undefined), { shape: '0.x', topic: 'exact' });
  assert.deepEqual(resolveSubscriptionsPath(`${S}/exact/s`, 'both', undefined), { shape: 'draft', matchType: 'exact', match: 's' });
  assert.deepEqual(resolveSubscriptionsPath(`${S}/uritemplate/s`, 'both', undefined), { shape: 'draft', matchType: 'uritemplate', match: 's' });
  assert.deepEqual(resolveSubscriptionsPath(`${S}/urn%3Ax/s`, 'both', undefined), { shape: '0.x', topic: 'urn:x', subscriber: 's' });
  assert.deepEqual(resolveSubscriptionsPath(`${S}/exact/a/b`, 'both', undefined), { shape: 'draft', matchType: 'exact', match: 'a', subscriber: 'b' });
});

test('a segment that does not percent-decode is a 400', () => {
  assert.throws(() => resolveSubscriptionsPath(`${S}/exact/%E0%A4%A/x`, 'draft', undefined), (error: unknown) => error instanceof HeraldError && error.status === 400);
});
