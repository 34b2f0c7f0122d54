// The broker of a single hub process that keeps nothing across restarts: the default
// store, and the reference the other brokers are compared with. Everything happens
// synchronously inside publish() (delivery too, unless a listener is the publisher);
// the promise only exists because the seam is async.
import type { Logger } from 'pino';
import { LocalBroker } from './local-broker.js';
import { closedError, duplicateIdError, expiryCutoff } from './local-state.js';
import type { RetentionOptions, Update } from '../types.js';
import { UpdateLog } from './update-log.js';

export interface MemoryBrokerOptions {
  readonly retention: RetentionOptions;
  /** Clock for age retention, in ms (default Date.now). */
  readonly now?: () => number;
  /** Where a throwing listener is reported. */
  readonly logger?: Logger;
}

export class MemoryBroker extends LocalBroker {
  override readonly description = 'memory';
  private readonly retention: RetentionOptions;
  private readonly now: () => number;
  protected readonly log: UpdateLog;
  private seq = 0;
  // Updates published by a listener while a delivery runs wait here, so that every
  // listener still sees log order (delivering at once would reach the later
  // listeners before the update they have not been given yet).
  private emitting = false;
  private readonly backlog: Update[] = [];

  constructor(opts: MemoryBrokerOptions) {
    super(opts.logger);
    this.retention = opts.retention;
    this.now = opts.now ?? Date.now;
    this.log = new UpdateLog(opts.retention);
  }

  async publish(update: Update): Promise<void> {
    this.store(update, false);
  }

  /** Everything happens inside store(): no promise needed (Broker.publishNow). */
  readonly publishNow = (update: Update, freshId?: boolean): void => {
    this.store(update, false, freshId === true);
  };

  async publishPresence(update: Update): Promise<void> {
    this.store(update, true);
  }

  private store(update: Update, presence: boolean, freshId = false): void {
    if (this.closed) throw closedError(this.description);
    // The lookup in a log of up to --history-max-total ids was ~4% of a publish's CPU.
    if (!freshId && this.log.has(update.id)) throw duplicateIdError(update.id);
    const now = this.now();
    this.log.expireBefore(expiryCutoff(this.retention.maxAgeSeconds, now));
    if (presence) this.log.appendPresence(update, now);
    else this.log.append(update, ++this.seq, now);
    if (this.emitting) {
      this.backlog.push(update);
      return;
    }
    this.emitting = true;
    try {
      this.updates.emit(update);
      for (let i = 0; i < this.backlog.length; i++) this.updates.emit(this.backlog[i]!);
    } finally {
      this.backlog.length = 0;
      this.emitting = false;
    }
  }

  async isReady(): Promise<boolean> {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.updates.clear();
  }

  protected expire(): void {
    this.log.expireBefore(expiryCutoff(this.retention.maxAgeSeconds, this.now()));
  }
}
