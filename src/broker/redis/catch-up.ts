// Broker.caughtUp for the Redis readers: each call waits until the reader has handed
// onUpdate every entry up to a target (the stream's newest when the call was made).
// A reader that cannot get there in time (Redis unreachable) fails the wait: the hub
// then ends that subscriber's stream and the client resumes, rather than guess.
import { HeraldError } from '../../errors.js';

const DEADLINE_MS = 5_000;

interface Waiter<T> {
  readonly target: T;
  readonly resolve: () => void;
  readonly timer: NodeJS.Timeout;
}

export class CatchUpWaiters<T> {
  private waiters: Waiter<T>[] = [];
  /** The target read in flight, and the one the calls made meanwhile share (each must be read after its call). */
  private reading: Promise<T> | null = null;
  private queued: Promise<T> | null = null;

  constructor(
    /** Whether everything up to `target` has been handed over. */
    private readonly reached: (target: T) => boolean,
    private readonly deadlineMs = DEADLINE_MS,
  ) {}

  wait(target: T): Promise<void> {
    if (this.reached(target)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter.timer !== timer);
        reject(new HeraldError('store_unavailable', `The Redis reader did not deliver the stream's newest entries within ${this.deadlineMs} ms`));
      }, this.deadlineMs);
      this.waiters.push({ target, resolve, timer });
    });
  }

  /**
   * Reads the target with `read` and waits for it. Calls made while a read is in flight
   * share the next one (a reconnect storm costs two reads, not one per subscriber).
   */
  catchUp(read: () => Promise<T>): Promise<void> {
    return this.target(read).then((target) => this.wait(target));
  }

  private target(read: () => Promise<T>): Promise<T> {
    if (this.reading === null) return this.startRead(read);
    const again = (): Promise<T> => {
      this.queued = null;
      return this.startRead(read);
    };
    return (this.queued ??= this.reading.then(again, again));
  }

  private startRead(read: () => Promise<T>): Promise<T> {
    const reading = read();
    this.reading = reading;
    const done = (): void => {
      if (this.reading === reading) this.reading = null;
    };
    reading.then(done, done);
    return reading;
  }

  /** After the reader handed entries over (or moved its position). */
  check(): void {
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((waiter) => {
      if (!this.reached(waiter.target)) return true;
      clearTimeout(waiter.timer);
      waiter.resolve();
      return false;
    });
  }

  /** The reader stops: nothing more will be handed over, so every wait ends now. */
  stop(): void {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
    this.waiters = [];
  }
}
