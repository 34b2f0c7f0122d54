// `herald backup <file>`: a consistent copy of a live SQLite store through SQLite's
// online backup API. Copying herald.db by hand while Herald runs can miss what is
// still in the -wal file or catch a page half-written; the backup API cannot.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError } from './config.js';

export interface BackupResult {
  readonly source: string;
  readonly target: string;
  readonly pages: number;
  readonly ms: number;
}

export async function backupSqlite(store: string, target: string): Promise<BackupResult> {
  if (!store.startsWith('sqlite:')) throw new ConfigError(`backup copies a SQLite store; --store is ${JSON.stringify(store)} (back Redis up with its own RDB/AOF tools)`);
  const source = resolve(store.slice('sqlite:'.length));
  if (!existsSync(source)) throw new ConfigError(`backup: no database at ${source}`);
  if (existsSync(target)) throw new ConfigError(`backup: ${resolve(target)} exists; choose a new file`);
  const startedAt = Date.now();
  // Opened read-write (not readonly) so SQLite can read the live -wal alongside it.
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const { totalPages } = await db.backup(target);
    return { source, target: resolve(target), pages: totalPages, ms: Date.now() - startedAt };
  } finally {
    db.close();
  }
}
