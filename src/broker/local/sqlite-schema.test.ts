// The SQLite schema carries a version (PRAGMA user_version): a file written before
// versioning is migrated in place with its updates intact; a file from a newer
// Herald is refused with a message that says so.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteBroker } from './sqlite.js';
import { SCHEMA_VERSION } from './sqlite-store.js';

const keepAll = { maxPerTopic: 0, maxAgeSeconds: 0, maxTotal: 1_000_000 };

/** The schema exactly as Herald wrote it before it had a version (commit e7ef4da). */
const UNVERSIONED_SCHEMA = `
CREATE TABLE IF NOT EXISTS herald_updates (
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL, topic TEXT NOT NULL, topics_json TEXT,
  data TEXT NOT NULL, private INTEGER NOT NULL, type TEXT, retry INTEGER, ts INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS herald_updates_id ON herald_updates (id);
CREATE TABLE IF NOT EXISTS herald_probe (id INTEGER PRIMARY KEY, pad BLOB);
`;

test('sqlite schema: a version-less file is migrated to the current version and keeps its updates', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-schema-'));
  const path = join(dir, 'herald.db');
  try {
    const old = new Database(path);
    old.exec(UNVERSIONED_SCHEMA);
    const insert = old.prepare('INSERT INTO herald_updates (id, topic, topics_json, data, private, type, retry, ts) VALUES (?, ?, NULL, ?, 0, NULL, NULL, ?)');
    for (let i = 1; i <= 3; i++) insert.run(`urn:old:${i}`, 'https://example.com/t', `data ${i}`, Date.now());
    assert.equal(old.pragma('user_version', { simple: true }), 0);
    old.close();

    const broker = await SqliteBroker.open({ path, retention: keepAll });
    try {
      const history = await broker.history({ filter: () => true, limit: 10 });
      assert.deepEqual(history.updates.map((u) => [u.id, u.data]), [['urn:old:1', 'data 1'], ['urn:old:2', 'data 2'], ['urn:old:3', 'data 3']]);
      assert.equal(await broker.lastEventId(), 'urn:old:3');
    } finally {
      await broker.close();
    }
    const reopened = new Database(path, { readonly: true });
    assert.equal(reopened.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    reopened.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('sqlite schema: a file from a newer Herald is refused, and left untouched', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-schema-'));
  const path = join(dir, 'herald.db');
  try {
    const future = new Database(path);
    future.exec(UNVERSIONED_SCHEMA);
    future.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    future.close();
    await assert.rejects(
      SqliteBroker.open({ path, retention: keepAll }),
      (e: unknown) => e instanceof Error && 'code' in e && e.code === 'store_unavailable' && /newer than this Herald/.test(e.message),
    );
    const after = new Database(path, { readonly: true });
    assert.equal(after.pragma('user_version', { simple: true }), SCHEMA_VERSION + 1);
    after.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
