import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { madeUpSubscriberKey } from './made-up-key.js';

test('with SQLite the made-up key is kept beside the database (owner-only) and reused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-key-'));
  try {
    const store = `sqlite:${join(dir, 'nested', 'herald.db')}`;
    const first = madeUpSubscriberKey(store);
    assert.equal(first.file, join(dir, 'nested', 'herald-subscriber.key'));
    assert.ok(first.key.length >= 32);
    assert.equal(statSync(first.file).mode & 0o777, 0o600);
    assert.equal(madeUpSubscriberKey(store).key, first.key);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('other stores get a fresh key per process, kept nowhere', () => {
  const a = madeUpSubscriberKey('memory');
  const b = madeUpSubscriberKey('memory');
  assert.equal(a.file, undefined);
  assert.notEqual(a.key, b.key);
});
