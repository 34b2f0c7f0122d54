// The SQLite file behind the SQLite broker: schema, pragmas, prepared statements and
// the row <-> Update mapping. It knows nothing of batching or retention rules; the
// broker (sqlite.ts) decides what to write and when.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Update } from '../types.js';

// A single global sequence (the rowid) orders the log. A single-topic update, the
// common case, stores its topic alone; the JSON column is only for several.
const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS herald_updates (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  topic TEXT NOT NULL,
  topics_json TEXT,
  data TEXT NOT NULL,
  private INTEGER NOT NULL,
  type TEXT,
  retry INTEGER,
  ts INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS herald_updates_id ON herald_updates (id);
CREATE TABLE IF NOT EXISTS herald_probe (id INTEGER PRIMARY KEY, pad BLOB);
`;

/**
 * The schema's history, in PRAGMA user_version: MIGRATIONS[i] takes a file from
 * version i to i + 1, each in one transaction. Files written before versioning have
 * version 0 and the v1 tables already: v1 is written with IF NOT EXISTS, so it
 * upgrades them in place. A new schema change is one more entry, never an edit.
 */
const MIGRATIONS: readonly string[] = [SCHEMA_V1];
export const SCHEMA_VERSION = MIGRATIONS.length;

function migrate(db: Database.Database, path: string): void {
  const version = Number(db.pragma('user_version', { simple: true }));
  if (version > SCHEMA_VERSION) {
    throw new Error(`${path} has schema version ${version}, newer than this Herald's ${SCHEMA_VERSION}: it was written by a newer version; upgrade Herald or restore a backup`);
  }
  for (let next = version; next < SCHEMA_VERSION; next++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[next]!);
      db.pragma(`user_version = ${next + 1}`);
    })();
  }
}

/** A stored update, as read back. */
export interface StoredRow {
  readonly seq: number;
  readonly id: string;
  readonly topic: string;
  /** All topics as a JSON array when there are several, else null. */
  readonly topics_json: string | null;
  readonly data: string;
  readonly private: number;
  readonly type: string | null;
  readonly retry: number | null;
  /** Publish time, ms. */
  readonly ts: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function rowToUpdate(row: StoredRow): Update {
  const topics: string[] = row.topics_json === null ? [row.topic] : (JSON.parse(row.topics_json) as string[]);
  const update: Mutable<Update> = { id: row.id, topics, data: row.data, private: row.private === 1 };
  // Absent fields stay absent rather than becoming null.
  if (row.type !== null) update.type = row.type;
  if (row.retry !== null) update.retry = row.retry;
  return update;
}

export class SqliteStore {
  private readonly insertStmt: Database.Statement;
  private readonly deleteUpToStmt: Database.Statement<[number]>;
  private readonly deleteOneStmt: Database.Statement<[number]>;
  private readonly deleteOlderStmt: Database.Statement<[number]>;
  private readonly newestStmt: Database.Statement<[number], StoredRow>;
  private readonly pingStmt: Database.Statement;
  private readonly probeStmt: Database.Statement<[number]>;
  private readonly unprobeStmt: Database.Statement;
  // Rows the broker dropped and the file still has, deleted with the next write.
  private pendingUpTo = 0;
  private readonly pendingSeqs: number[] = [];

  private constructor(readonly db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO herald_updates (id, topic, topics_json, data, private, type, retry, ts)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    );
    this.deleteUpToStmt = db.prepare('DELETE FROM herald_updates WHERE seq <= ?');
    this.deleteOneStmt = db.prepare('DELETE FROM herald_updates WHERE seq = ?');
    this.deleteOlderStmt = db.prepare('DELETE FROM herald_updates WHERE ts < ?');
    this.newestStmt = db.prepare<[number], StoredRow>(
      'SELECT seq, id, topic, topics_json, data, private, type, retry, ts FROM herald_updates ORDER BY seq DESC LIMIT ?',
    );
    this.pingStmt = db.prepare('SELECT 1');
    this.probeStmt = db.prepare('INSERT OR REPLACE INTO herald_probe (id, pad) VALUES (1, zeroblob(?))');
    this.unprobeStmt = db.prepare('DELETE FROM herald_probe');
  }

  /** Opens (creating it and its directory if needed) the database file at `path`. */
  static open(path: string): SqliteStore {
    mkdirSync(dirname(resolve(path)), { recursive: true });
    const db = new Database(path);
    try {
      // WAL + NORMAL: a commit survives the process dying (not a power cut) and
      // costs no fsync; readers (a second process, a backup) never block the writer.
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      migrate(db, path);
      return new SqliteStore(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Stores one update; returns its seq, or 0 when its id is already stored. */
  insert(update: Update, ts: number): number {
    const topics = update.topics;
    const result = this.insertStmt.run(
      update.id,
      topics[0],
      topics.length > 1 ? JSON.stringify(topics) : null,
      update.data,
      update.private ? 1 : 0,
      update.type ?? null,
      update.retry ?? null,
      ts,
    );
    return result.changes === 0 ? 0 : Number(result.lastInsertRowid);
  }

  deleteUpTo(seq: number): void {
    this.deleteUpToStmt.run(seq);
  }

  /** Queues the row `seq` for deletion (and every older row too when `andOlder`). */
  queueDelete(seq: number, andOlder: boolean): void {
    if (andOlder) this.pendingUpTo = Math.max(this.pendingUpTo, seq);
    else this.pendingSeqs.push(seq);
  }

  get hasQueuedDeletes(): boolean {
    return this.pendingUpTo > 0 || this.pendingSeqs.length > 0;
  }

  /** Runs the queued deletes; call inside a transaction, then `deletesCommitted` once it committed. */
  runQueuedDeletes(): void {
    if (this.pendingUpTo > 0) this.deleteUpToStmt.run(this.pendingUpTo);
    for (let i = 0; i < this.pendingSeqs.length; i++) this.deleteOneStmt.run(this.pendingSeqs[i]!);
  }

  deletesCommitted(): void {
    this.pendingUpTo = 0;
    this.pendingSeqs.length = 0;
  }

  deleteOlderThan(ts: number): void {
    this.deleteOlderStmt.run(ts);
  }

  /** The newest `limit` rows (all when limit < 0), newest first. */
  newest(limit: number): StoredRow[] {
    return this.newestStmt.all(limit);
  }

  ping(): boolean {
    try {
      this.pingStmt.get();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Commits a write of `bytes` and then removes it: false when the file cannot take it.
   * As large as the write that failed, since a full disk may still take a tiny one.
   */
  probeWrite(bytes: number): boolean {
    try {
      this.probeStmt.run(bytes);
      this.unprobeStmt.run();
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
