// The durable broker of a single hub process: an SQLite file (WAL) holds the log,
// an in-memory UpdateLog mirrors what retention keeps so that history never reads
// the disk. Publishes are written in batches: everything published during one
// event-loop turn goes into ONE transaction, and is acknowledged (promise resolved,
// listeners called, in order) only once that transaction committed.
//
// Retention runs on the mirror; the rows it drops are deleted in the next write
// transaction (or the age sweep, or close). Rows left over by a crash are trimmed
// when the file is opened again, so the file never serves more than retention keeps.
//
// Presence events (publishPresence) ride in the same batches, so they keep their
// place in the log order, but are never written: they live in the mirror only, under
// their own cap, and a restart ends the connections they describe anyway.
import type { Logger } from 'pino';
import { HeraldError } from '../../errors.js';
import { guarded } from '../../timers.js';
import { LocalBroker } from './local-broker.js';
import { closedError, duplicateIdError, expiryCutoff } from './local-state.js';
import { rowToUpdate, SqliteStore } from './sqlite-store.js';
import type { RetentionOptions, Update } from '../types.js';
import { UpdateLog } from './update-log.js';

export interface SqliteBrokerOptions {
  /** The database file; created with its directory. Relative paths are relative to the working directory. */
  readonly path: string;
  readonly retention: RetentionOptions;
  /** Clock for age retention, in ms (default Date.now). */
  readonly now?: () => number;
  readonly logger?: Logger;
}

/** Counters for tests and metrics. */
export interface SqliteWriteStats {
  /** Write transactions committed for publishes. */
  readonly batches: number;
  /** Updates stored by them. */
  readonly updates: number;
}

export class SqliteBroker extends LocalBroker {
  override readonly description: string;
  protected readonly log: UpdateLog;
  private readonly now: () => number;
  private readonly logger: Logger | undefined;
  private readonly writeBatch: (batch: readonly Update[], presence: readonly boolean[], ts: number, seqs: number[]) => void;
  private readonly sweepTimer: NodeJS.Timeout | undefined;
  // The publishes of the current turn, as parallel arrays: no object per update.
  private queued: Update[] = [];
  private queuedPresence: boolean[] = [];
  private resolvers: (() => void)[] = [];
  private rejecters: ((error: Error) => void)[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  /** True while a committed batch is being delivered. */
  private delivering = false;
  private batches = 0;
  private stored = 0;
  /** Bytes of the last write when it failed (a full disk), else 0: not ready until a write, or a probe write as large, succeeds. */
  private failedBytes = 0;

  private constructor(
    private readonly store: SqliteStore,
    private readonly retention: RetentionOptions,
    opts: SqliteBrokerOptions,
  ) {
    super(opts.logger);
    this.description = `sqlite:${opts.path}`;
    this.now = opts.now ?? Date.now;
    this.logger = opts.logger;
    this.log = new UpdateLog(retention, { onRemove: (seq, fromHead) => store.queueDelete(seq, fromHead) });
    // BEGIN IMMEDIATE: another process writing the file makes this one wait
    // (busy_timeout) at BEGIN rather than fail half-way through the batch.
    this.writeBatch = store.db.transaction((batch: readonly Update[], presence: readonly boolean[], ts: number, seqs: number[]) => {
      store.runQueuedDeletes();
      for (let i = 0; i < batch.length; i++) if (!presence[i]) seqs[i] = store.insert(batch[i]!, ts);
    }).immediate;
    if (retention.maxAgeSeconds > 0) {
      const every = Math.min(60_000, Math.max(1_000, retention.maxAgeSeconds * 250));
      this.sweepTimer = setInterval(guarded('sqlite retention sweep', () => this.sweep(), this.logger), every).unref();
    }
  }

  /** Opens the file, trims it to the retention and loads what is kept. */
  static async open(opts: SqliteBrokerOptions): Promise<SqliteBroker> {
    let store: SqliteStore;
    try {
      store = SqliteStore.open(opts.path);
    } catch (error) {
      throw new HeraldError('store_unavailable', `Cannot open the SQLite store ${opts.path}: ${(error as Error).message}`);
    }
    const broker = new SqliteBroker(store, opts.retention, opts);
    try {
      broker.load();
    } catch (error) {
      await broker.close();
      throw new HeraldError('store_unavailable', `Cannot load the SQLite store ${opts.path}: ${(error as Error).message}`);
    }
    return broker;
  }

  publish(update: Update): Promise<void> {
    return this.enqueue(update, false);
  }

  publishPresence(update: Update): Promise<void> {
    return this.enqueue(update, true);
  }

  private enqueue(update: Update, presence: boolean): Promise<void> {
    if (this.closed) return Promise.reject(closedError(this.description));
    return new Promise<void>((resolve, reject) => {
      this.queued.push(update);
      this.queuedPresence.push(presence);
      this.resolvers.push(resolve);
      this.rejecters.push(reject);
      this.scheduled ??= setImmediate(this.flush);
    });
  }

  async isReady(): Promise<boolean> {
    if (this.closed || !this.store.ping()) return false;
    // A read answers on a full disk; only a write says whether publishes can be stored.
    if (this.failedBytes > 0 && this.store.probeWrite(this.failedBytes)) this.failedBytes = 0;
    return this.failedBytes === 0;
  }

  writeStats(): SqliteWriteStats {
    return { batches: this.batches, updates: this.stored };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Closed by a listener: let the batch being delivered finish first, in order.
    if (this.delivering) await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.flush();
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.writeDeletes();
    this.store.close();
    this.updates.clear();
    this.presence.clear();
  }

  private readonly flush = (): void => {
    this.scheduled = undefined;
    const batch = this.queued;
    const presence = this.queuedPresence;
    const resolvers = this.resolvers;
    const rejecters = this.rejecters;
    const n = batch.length;
    if (n === 0) return;
    this.queued = [];
    this.queuedPresence = [];
    this.resolvers = [];
    this.rejecters = [];
    const seqs = new Array<number>(n).fill(0);
    const ts = this.now();
    // A turn of presence events alone writes nothing: no transaction, no disk.
    if (presence.includes(false) || this.store.hasQueuedDeletes) {
      try {
        this.writeBatch(batch, presence, ts, seqs);
      } catch (error) {
        let bytes = 1;
        for (let i = 0; i < n; i++) bytes += batch[i]!.data.length;
        this.failedBytes = Math.min(bytes, 16 * 1024 * 1024);
        this.logger?.error({ err: error, updates: n }, 'SQLite write failed; the batch was not published');
        const failure = new HeraldError('store_unavailable');
        for (let i = 0; i < n; i++) rejecters[i]!(failure);
        return;
      }
      this.store.deletesCommitted();
      this.failedBytes = 0;
      this.batches++;
    }
    this.log.expireBefore(expiryCutoff(this.retention.maxAgeSeconds, ts));
    this.delivering = true;
    try {
      for (let i = 0; i < n; i++) {
        const update = batch[i]!;
        const seq = seqs[i]!;
        // The file knows only messages: a presence event's id is checked against the mirror.
        if ((seq === 0 && !presence[i]) || this.log.has(update.id)) {
          if (seq > 0) this.store.queueDelete(seq, false);
          rejecters[i]!(duplicateIdError(update.id));
          continue;
        }
        if (presence[i]) this.log.appendPresence(update, ts);
        else {
          this.stored++;
          this.log.append(update, seq, ts);
        }
        resolvers[i]!();
        this.updates.emit(update);
      }
    } finally {
      this.delivering = false;
    }
  };

  /** Trims the file to retention, then mirrors the kept rows. */
  private load(): void {
    const cutoff = expiryCutoff(this.retention.maxAgeSeconds, this.now());
    const max = this.retention.maxTotal;
    const rows = this.store.db.transaction(() => {
      if (cutoff > -Infinity) this.store.deleteOlderThan(cutoff);
      const newest = this.store.newest(max > 0 ? max : -1);
      const oldestKept = newest[newest.length - 1];
      if (oldestKept !== undefined) this.store.deleteUpTo(oldestKept.seq - 1);
      return newest;
    }).immediate();
    for (let i = rows.length - 1; i >= 0; i--) {
      const row = rows[i]!;
      this.log.append(rowToUpdate(row), row.seq, row.ts);
    }
    this.writeDeletes();
  }

  protected expire(): void {
    this.log.expireBefore(expiryCutoff(this.retention.maxAgeSeconds, this.now()));
  }

  // Age retention must also reach the file when nothing is published for a while.
  private sweep(): void {
    this.expire();
    if (this.scheduled === undefined) this.writeDeletes();
  }

  private writeDeletes(): void {
    if (!this.store.hasQueuedDeletes || !this.store.db.open) return;
    try {
      this.store.db.transaction(() => this.store.runQueuedDeletes()).immediate();
      this.store.deletesCommitted();
    } catch (error) {
      // Harmless to leave: the rows are out of the mirror and trimmed at the next open.
      this.logger?.warn({ err: error }, 'SQLite retention delete failed; retrying with the next write');
    }
  }
}
