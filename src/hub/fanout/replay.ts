// A subscriber's replay, read from the broker in bounded pages and written only as
// fast as the client takes it: what one replaying subscriber costs in memory stays
// within the subscriber buffer (a page, what the sink holds, what is held live), and
// every broker read is a bounded slice with a turn of the event loop between two.
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { HISTORY_SCAN_SLICE as SCAN_SLICE, type Broker, type Update } from '../../broker/types.js';
import { encodeEvent } from '../../sse/encode.js';
import type { Subscriber } from './subscriber.js';

/** How often a replay waiting for its client to read checks the sink again. */
const DRAIN_POLL_MS = 5;

export interface ReplayLimits {
  readonly replayMax: number;
  /** The subscriber buffer: a page is at most half of it, written once the sink holds less than half. */
  readonly maxPendingBytes: number;
}

export interface ReplayStart {
  /** False when the requested id is not in the kept log. */
  readonly found: boolean;
  /** The forward read starts after this id; null: from the earliest kept. */
  readonly startAfter: string | null;
  /**
   * More than replayMax updates matched, and the oldest of them will not be sent.
   * This is where a "the replay was cut" notice would be decided.
   */
  readonly truncated: boolean;
}

/** Where the pages a replay writes come from, and where they go. */
export interface ReplayTarget {
  readonly subscriber: Subscriber;
  /** Writes one page (log order, and its encoding) to the subscriber. */
  writePage(updates: readonly Update[], bytes: Buffer): void;
}

export type ReplayOutcome = 'done' | 'closed' | 'lost';

function pageBytes(limits: ReplayLimits): number {
  return Math.max(1, Math.floor(limits.maxPendingBytes / 2));
}

/**
 * Finds where a replay after `afterId` starts so that it sends the NEWEST replayMax
 * matches (what --replay-max has always meant): counts matches newest first, one
 * slice at a time, keeping nothing but the count.
 */
export async function locateReplay(broker: Broker, filter: (update: Update) => boolean, afterId: string | null, limits: ReplayLimits): Promise<ReplayStart> {
  let counted = 0;
  let beforeId: string | undefined;
  for (;;) {
    const left = limits.replayMax - counted;
    const result = await broker.history({ afterId, filter, limit: left + 1, maxScan: SCAN_SLICE, maxBytes: pageBytes(limits), ...(beforeId === undefined ? {} : { beforeId }) });
    // The slice's own bound was trimmed away meanwhile: start from the requested id.
    if (!result.found) return { found: beforeId !== undefined, startAfter: afterId, truncated: false };
    if (result.updates.length > left) return { found: true, startAfter: result.updates[0]!.id, truncated: true };
    counted += result.updates.length;
    if (result.next === undefined) return { found: true, startAfter: afterId, truncated: false };
    beforeId = result.next;
    await nextTurn();
  }
}

/**
 * Reads and writes the replay page by page, oldest first. It stops at the first
 * update already held live (from there on the held updates carry the stream), at the
 * end of the log, or after replayMax updates. 'lost': the page cursor was trimmed
 * away under a slow read; the client resumes from the last id it got.
 */
export async function streamReplay(broker: Broker, target: ReplayTarget, start: ReplayStart, limits: ReplayLimits): Promise<ReplayOutcome> {
  const { subscriber } = target;
  const maxBytes = pageBytes(limits);
  const filter = (update: Update): boolean => subscriber.accepts(update);
  let cursor = start.startAfter;
  let left = limits.replayMax;
  while (left > 0) {
    while (!subscriber.closed && subscriber.sink.pendingBytes() >= maxBytes) await sleep(DRAIN_POLL_MS);
    if (subscriber.closed) return 'closed';
    const page = await broker.history({ afterId: cursor, filter, limit: left, oldestFirst: true, maxScan: SCAN_SLICE, maxBytes });
    if (subscriber.closed) return 'closed';
    if (!page.found) return 'lost';
    const heldAt = page.updates.findIndex((update) => subscriber.isHeld(update.id));
    const updates = heldAt < 0 ? page.updates : page.updates.slice(0, heldAt);
    if (updates.length > 0) {
      const bytes = Buffer.concat(updates.map((update) => encodeEvent(update)));
      // A page larger than planned (one big update, many data lines) waits for more room.
      while (!subscriber.closed && subscriber.sink.pendingBytes() > 0 && subscriber.sink.pendingBytes() + bytes.length > limits.maxPendingBytes) await sleep(DRAIN_POLL_MS);
      if (subscriber.closed) return 'closed';
      target.writePage(updates, bytes);
    }
    left -= updates.length;
    if (heldAt >= 0 || page.next === undefined) break;
    cursor = page.next;
    await nextTurn();
  }
  return subscriber.closed ? 'closed' : 'done';
}
