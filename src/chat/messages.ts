// Chat messages: what a person may send, how it becomes a hub Update on the room's
// topic, and how history pages are read back from the broker.
import type { Broker, Update } from '../broker/types.js';
import { HeraldError } from '../errors.js';
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
}

/** The newest `limit` messages of a room before `beforeId` (or the newest overall), oldest first. */
export async function readHistory(broker: Broker, room: string, limit: number, beforeId?: string): Promise<HistoryRead> {
  const query = { filter: (update: Update) => isMessageOf(room, update), limit, ...(beforeId === undefined ? {} : { beforeId }) };
  const result = await broker.history(query);
  if (!result.found) throw new HeraldError('not_found', `Message ${JSON.stringify(beforeId)} is not in the kept history (too old, or never existed)`);
  const messages: ChatMessage[] = [];
  for (const update of result.updates) {
    const message = parseChatMessage(update.data);
    // The update id is authoritative: it is what the stream resumes from.
    if (message !== undefined) messages.push({ ...message, id: update.id, room });
  }
  return { messages, more: result.truncated };
}
