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
  /** More than replayMax updates matched, and the oldest of them will not be sent. */
  readonly truncated: boolean;
}

/** Why a resume is not exact: the id is not in the kept log, or the replay stops at --replay-max. */
export type GapReason = 'unknown_id' | 'replay_cut';

/** Where a resume starts, what the stream says about it, and whether it is exact. */
export interface Resume {
  readonly start: ReplayStart;
  /** Mercure-Last-Event-ID: the id preceding the first event sent, or 'earliest'. */
  readonly cursor: string;
  /** Set when the resume is not exact: the in-band herald-gap event goes out before the replay. */
  readonly gap?: { readonly reason: GapReason; readonly lastEventId: string };
}

/**
 * Locates the replay for a requested Last-Event-ID ('earliest': all that is kept). An
 * unknown id gets everything kept (the client may have missed any of it) and is told so.
 */
export async function locateResume(broker: Broker, filter: (update: Update) => boolean, requested: string, limits: ReplayLimits, topics?: readonly string[]): Promise<Resume> {
  const earliest = requested === 'earliest';
  let start = await locateReplay(broker, filter, earliest ? null : requested, limits, topics);
  const unknown = !start.found;
  if (unknown) start = await locateReplay(broker, filter, null, limits, topics);
  const cursor = start.startAfter ?? 'earliest';
  if (unknown) return { start, cursor, gap: { reason: 'unknown_id', lastEventId: requested } };
  if (start.truncated) return { start, cursor, gap: { reason: 'replay_cut', lastEventId: requested } };
  return { start, cursor };
}

/** The in-band gap event: a named event without an id, so EventSource's Last-Event-ID and `message` listeners are untouched. */
export function encodeGap(gap: NonNullable<Resume['gap']>, resumeFrom: string | null): Buffer {
  // JSON.stringify escapes CR and LF: a client-sent id cannot start an SSE line.
  return encodeEvent({ type: 'herald-gap', data: JSON.stringify({ reason: gap.reason, lastEventId: gap.lastEventId, resumeFrom }) });
}

/** Where the pages a replay writes come from, and where they go. */
export interface ReplayTarget {
  readonly subscriber: Subscriber;
  /** Writes one page (log order, and its encoding) to the subscriber. */
  writePage(updates: readonly Update[], bytes: Buffer): void;
  /** Writes bytes that are no update (the gap event). */
  writeNotice(bytes: Buffer): void;
}

export type ReplayOutcome = 'done' | 'closed' | 'lost';

/** The history hint of an exact-only subscriber: the store may read just those topics. */
function hint(topics: readonly string[] | undefined): { topics?: readonly string[] } {
  return topics === undefined ? {} : { topics };
}

function pageBytes(limits: ReplayLimits): number {
  return Math.max(1, Math.floor(limits.maxPendingBytes / 2));
}

/**
 * Finds where a replay after `afterId` starts so that it sends the NEWEST replayMax
 * matches (what --replay-max has always meant): counts matches newest first, one
 * slice at a time, keeping nothing but the count.
 */
export async function locateReplay(broker: Broker, filter: (update: Update) => boolean, afterId: string | null, limits: ReplayLimits, topics?: readonly string[]): Promise<ReplayStart> {
  let counted = 0;
  let beforeId: string | undefined;
  for (;;) {
    const left = limits.replayMax - counted;
    const result = await broker.history({ afterId, filter, ...hint(topics), limit: left + 1, maxScan: SCAN_SLICE, maxBytes: pageBytes(limits), ...(beforeId === undefined ? {} : { beforeId }) });
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
 * end of the log, or after replayMax updates; then waits for the store's delivery to
 * catch up with what it read. 'lost': the page cursor was trimmed
 * away under a slow read; the client resumes from the last id it got.
 */
export async function streamReplay(broker: Broker, target: ReplayTarget, resume: Resume, limits: ReplayLimits): Promise<ReplayOutcome> {
  const { subscriber } = target;
  const { start } = resume;
  let gap = resume.gap;
  const maxBytes = pageBytes(limits);
  const filter = (update: Update): boolean => subscriber.accepts(update);
  const topics = hint(subscriber.historyTopics());
  let cursor = start.startAfter;
  let left = limits.replayMax;
  let cutAtHeld = false;
  while (left > 0) {
    while (!subscriber.closed && subscriber.sink.pendingBytes() >= maxBytes) await sleep(DRAIN_POLL_MS);
    if (subscriber.closed) return 'closed';
    const page = await broker.history({ afterId: cursor, filter, ...topics, limit: left, oldestFirst: true, maxScan: SCAN_SLICE, maxBytes });
    if (subscriber.closed) return 'closed';
    if (!page.found) return 'lost';
    const heldAt = page.updates.findIndex((update) => subscriber.isHeld(update.id));
    const updates = heldAt < 0 ? page.updates : page.updates.slice(0, heldAt);
    if (updates.length > 0) {
      const bytes = Buffer.concat(updates.map((update) => encodeEvent(update)));
      // A page larger than planned (one big update, many data lines) waits for more room.
      while (!subscriber.closed && subscriber.sink.pendingBytes() > 0 && subscriber.sink.pendingBytes() + bytes.length > limits.maxPendingBytes) await sleep(DRAIN_POLL_MS);
      if (subscriber.closed) return 'closed';
      if (gap !== undefined) target.writeNotice(encodeGap(gap, updates[0]!.id));
      gap = undefined;
      target.writePage(updates, bytes);
    }
    left -= updates.length;
    if (heldAt >= 0) {
      // Cut at an update already held: it and all before it were delivered, so the
      // live stream holds nothing the replay sent.
      cutAtHeld = true;
      break;
    }
    if (page.next === undefined) break;
    cursor = page.next;
    await nextTurn();
  }
  if (subscriber.closed) return 'closed';
  // The pages may hold updates stored but not delivered yet (a Redis reader's lag):
  // the hand-off to live waits until they are (see Subscriber.endReplay).
  if (!cutAtHeld && subscriber.lastReplayed !== undefined && broker.caughtUp !== undefined) {
    await broker.caughtUp();
    if (subscriber.closed) return 'closed';
  }
  // Nothing replayed: what comes next is the first live update held meanwhile, if any.
  if (gap !== undefined) target.writeNotice(encodeGap(gap, subscriber.firstHeldId() ?? null));
  return 'done';
}
