// Chat messages: what a person may send, how it becomes a hub Update on the room's
// topic, and how history pages are read back from the broker.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { HISTORY_SCAN_SLICE as SCAN_SLICE, type Update } from '../broker/types.js';
import { HeraldError } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import { newEventId } from '../hub/publication.js';
import { MESSAGE_EVENT, parseChatMessage, roomOfTopic, roomTopic, textLength, type ChatMessage, type ChatUser } from './protocol.js';

const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface MessageInput {
  readonly text: string;
  readonly clientId: string | null;
}

/** 400 for a missing or blank text, 413 past `maxLength` characters; line breaks normalised. */
export function validateMessage(body: unknown, maxLength: number): MessageInput {
  const { text, clientId } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof text !== 'string') throw new HeraldError('invalid_field', '"text" is required (a string)');
  const normalized = text.replace(/\r\n?/g, '\n');
  if (normalized.trim() === '') throw new HeraldError('invalid_field', '"text" must not be empty');
  const length = textLength(normalized);
  if (length > maxLength) {
    throw new HeraldError('payload_too_large', `"text" is ${length} characters; the limit is ${maxLength}`);
  }
  if (clientId !== undefined && clientId !== null && (typeof clientId !== 'string' || !CLIENT_ID.test(clientId))) {
    throw new HeraldError('invalid_field', '"clientId" must be 1 to 64 letters, digits, "-" or "_"');
  }
  return { text: normalized, clientId: typeof clientId === 'string' ? clientId : null };
}

export function newMessage(room: string, user: ChatUser, input: MessageInput, now: number): ChatMessage {
  return {
    id: newEventId(),
    room,
    userId: user.userId,
    nickname: user.nickname,
    text: input.text,
    sentAt: new Date(now).toISOString(),
    clientId: input.clientId,
  };
}

/** Public: anyone may read a room (with or without a session), as on the page. */
export function messageUpdate(message: ChatMessage): Update {
  return { id: message.id, topics: [roomTopic(message.room)], data: JSON.stringify(message), private: false, type: MESSAGE_EVENT };
}

function isMessageOf(room: string, update: Update): boolean {
  return update.type === MESSAGE_EVENT && !update.private && roomOfTopic(update.topics[0] ?? '') === room;
}

export interface HistoryRead {
  readonly messages: ChatMessage[];
  readonly more: boolean;
  /** Where an unfinished scan stopped: the next read goes on `before` it. */
  readonly next?: string;
}

export interface HistoryRequest {
  readonly room: string;
  readonly limit: number;
  readonly beforeId?: string;
  /** Kept updates this request may examine: the page is public, so no request scans the whole log. */
  readonly maxScan: number;
}

/**
 * The newest `limit` messages of a room before `beforeId` (or the newest overall),
 * oldest first. The log is read in slices with a turn of the event loop between two,
 * and at most `maxScan` updates are examined: past that the page says `more` and
 * where it stopped, whether or not it found anything.
 */
export async function readHistory(hub: Pick<Hub, 'history'>, request: HistoryRequest): Promise<HistoryRead> {
  const filter = (update: Update): boolean => isMessageOf(request.room, update);
  const found: Update[] = [];
  let beforeId = request.beforeId;
  let scanned = 0;
  let more = false;
  let next: string | undefined;
  for (;;) {
    const slice = Math.min(SCAN_SLICE, request.maxScan - scanned);
    const result = await hub.history({ filter, topics: [roomTopic(request.room)], limit: request.limit - found.length, maxScan: slice, ...(beforeId === undefined ? {} : { beforeId }) });
    if (!result.found) {
      if (beforeId === request.beforeId) throw new HeraldError('not_found', `Message ${JSON.stringify(request.beforeId)} is not in the kept history (too old, or never existed)`);
      // The slice's cursor was trimmed meanwhile: what is older went with it.
      break;
    }
    found.unshift(...result.updates);
    if (result.truncated) {
      more = true;
      break;
    }
    if (result.next === undefined) break;
    scanned += slice;
    if (found.length >= request.limit || scanned >= request.maxScan) {
      more = true;
      if (found.length < request.limit) next = result.next;
      break;
    }
    beforeId = result.next;
    await nextTurn();
  }
  const messages: ChatMessage[] = [];
  for (const update of found) {
    const message = parseChatMessage(update.data);
    // The update id is authoritative: it is what the stream resumes from.
    if (message !== undefined) messages.push({ ...message, id: update.id, room: request.room });
  }
  return next === undefined ? { messages, more } : { messages, more, next };
}
