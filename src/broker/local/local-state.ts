// Process-local pieces shared by the embedded brokers (memory, SQLite): the listener
// fan-out and the presence table. Neither outlives the process, which is fine: the
// connections they describe do not either.
import type { Logger } from 'pino';
import { HeraldError } from '../../errors.js';
import type { SubscriptionRecord, SubscriptionScan, SubscriptionScanResult, Unsubscribe } from '../types.js';

/**
 * Listeners kept in an array replaced on (un)subscribe, so that emitting, which
 * happens once per update, neither allocates nor trips over an unsubscribe made
 * by a listener while it runs.
 */
export class Fanout<T> {
  private listeners: readonly ((value: T) => void)[] = [];

  constructor(private readonly logger?: Logger) {}

  add(listener: (value: T) => void): Unsubscribe {
    // Wrapped so that adding the same function twice yields two independent registrations.
    const registered = (value: T): void => listener(value);
    this.listeners = [...this.listeners, registered];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== registered);
    };
  }

  emit(value: T): void {
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(value);
      } catch (error) {
        // Listeners must not throw; one that does must not stall the others or the
        // publishers waiting behind it.
        this.logger?.error({ err: error }, 'broker listener threw');
      }
    }
  }

  clear(): void {
    this.listeners = [];
  }
}

/** The presence table of a broker that no other process shares. */
export class LocalPresence {
  private readonly records = new Map<string, SubscriptionRecord>();

  add(records: readonly SubscriptionRecord[]): void {
    for (const record of records) this.records.set(record.id, record);
  }

  /** Removes the records; returns the ids that were there. */
  remove(ids: readonly string[]): string[] {
    return ids.filter((id) => this.records.delete(id));
  }

  list(): SubscriptionRecord[] {
    return [...this.records.values()];
  }

  get(id: string): SubscriptionRecord | undefined {
    return this.records.get(id);
  }

  scan({ filter, maxScan }: SubscriptionScan): SubscriptionScanResult {
    const records: SubscriptionRecord[] = [];
    let examined = 0;
    for (const record of this.records.values()) {
      if (examined++ >= maxScan) return { records, complete: false };
      if (filter(record)) records.push(record);
    }
    return { records, complete: true };
  }

  clear(): void {
    this.records.clear();
  }
}

/** Why a publish with an id already in the kept log is refused: ids are unique in the log. */
export function duplicateIdError(id: string): HeraldError {
  return new HeraldError('duplicate_id', `An update with id "${id}" is already in the log; ids must be unique`);
}

/** What a closed broker answers to publish: nothing can be stored any more. */
export function closedError(description: string): HeraldError {
  return new HeraldError('store_unavailable', `The ${description} broker is closed; nothing was published`);
}

/** The cutoff (ms) before which updates are expired, or -Infinity when age is unlimited. */
export function expiryCutoff(maxAgeSeconds: number, now: number): number {
  return maxAgeSeconds > 0 ? now - maxAgeSeconds * 1000 : -Infinity;
}
