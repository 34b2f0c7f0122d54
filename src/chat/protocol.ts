// What the chat's server and its page agree on: room name rules, how a room maps to
// a hub topic, and the JSON shapes of the API and of the events. Imported by the
// page too (bundled by esbuild), so it must stay free of Node imports.
import { SUBSCRIPTIONS_PATH, type SubscriptionsFormat } from '../hub/mercure-paths.js';

/** Room names: short, lowercase, URL-safe, so they can sit in a path and a topic unescaped. */
export const ROOM_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const DEFAULT_ROOM = 'lobby';
export const NICKNAME_MAX = 32;

/**
 * Room topics are URNs rather than URLs of this server, so a room's history survives
 * a change of --public-url or of the port.
 */
const TOPIC_PREFIX = 'urn:herald:chat:room:';

export function isRoomName(name: string): boolean {
  return ROOM_NAME.test(name);
}

export function roomTopic(room: string): string {
  return `${TOPIC_PREFIX}${room}`;
}

/** The room a topic belongs to, or undefined when it is not a chat room topic. */
export function roomOfTopic(topic: string): string | undefined {
  if (!topic.startsWith(TOPIC_PREFIX)) return undefined;
  const room = topic.slice(TOPIC_PREFIX.length);
  return isRoomName(room) ? room : undefined;
}

/**
 * The path of a room's subscription events without the subscriber: the page subscribes
 * to its room topic exactly, so under the draft's shape the matcher type is `exact`.
 */
function presencePath(encodedTopic: string, format: SubscriptionsFormat): string {
  return format === '0.x' ? `${SUBSCRIPTIONS_PATH}/${encodedTopic}` : `${SUBSCRIPTIONS_PATH}/exact/${encodedTopic}`;
}

/** The selector (a URI template) of the hub's subscription events for one room (presence), in the hub's shape (`both`: the draft's). */
export function presenceSelector(room: string, format: SubscriptionsFormat): string {
  return `${presencePath(encodeURIComponent(roomTopic(room)), format)}/{subscriber}`;
}

/** Every room's messages: the page follows them all for its unread counts. */
export const ALL_ROOMS_SELECTOR = `${TOPIC_PREFIX}{room}`;

/** What a session's token may subscribe to: every room, and the presence of every room (in each shape the hub sends). */
export function sessionSelectors(format: SubscriptionsFormat): string[] {
  const shapes: SubscriptionsFormat[] = format === 'both' ? ['draft', '0.x'] : [format];
  return [ALL_ROOMS_SELECTOR, ...shapes.map((shape) => `${presencePath(encodeURIComponent(TOPIC_PREFIX), shape)}{room}/{subscriber}`)];
}

/**
 * Characters that draw nothing: format (Cf) and space (Zs) characters, combining marks
 * on their own, default-ignorables, the Hangul fillers and the blank Braille pattern.
 */
const INVISIBLE = /[\p{Cf}\p{Zs}\p{Mn}\p{Me}\p{Default_Ignorable_Code_Point}\u115f\u1160\u3164\uffa0\u2800\s]/gu;

/** True when the text shows at least one visible character (a nickname of U+200B alone does not). */
export function hasVisibleCharacter(text: string): boolean {
  return text.replace(INVISIBLE, '') !== '';
}

/** Length as a person counts it (code points), the same on both sides. */
export function textLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** The SSE event type of chat messages on a room topic. */
export const MESSAGE_EVENT = 'message';

/** The `data` of a message event, and an item of the history API. */
export interface ChatMessage {
  /** Also the SSE id of the event, so it is a resume point. */
  readonly id: string;
  readonly room: string;
  readonly userId: string;
  readonly nickname: string;
  readonly text: string;
  /** ISO 8601, UTC; the page shows it in the reader's local time. */
  readonly sentAt: string;
  /** Chosen by the sending page to recognise the echo of its optimistic message. */
  readonly clientId: string | null;
}

/** The payload of a session token, and thus of the hub's subscription events. */
export interface ChatUser {
  readonly userId: string;
  readonly nickname: string;
}

export interface SessionInfo {
  readonly session: ChatUser | null;
  readonly limits: { readonly maxTextLength: number; readonly maxNicknameLength: number };
}

export interface RoomSummary {
  readonly name: string;
  readonly topic: string;
  /** Distinct people (a person with two tabs counts once). */
  readonly online: number;
}

export interface RoomList {
  readonly rooms: RoomSummary[];
}

export interface OnlineUser extends ChatUser {
  /** The subscriber IRIs of this person's connections to the room. */
  readonly subscribers: string[];
}

export interface RoomUsers {
  readonly room: string;
  readonly topic: string;
  readonly users: OnlineUser[];
}

export interface HistoryPage {
  readonly room: string;
  readonly topic: string;
  /** Oldest first. */
  readonly messages: ChatMessage[];
  /** True when older messages exist before the first one (or may: see `next`). */
  readonly more: boolean;
  /**
   * Set when the read stopped at the server's scan bound (--chat-history-scan) before
   * finding `limit` messages: pass it as `before` to read on from where it stopped.
   */
  readonly next?: string;
  /**
   * Where a live stream should resume so that nothing published after this page was
   * read is missed (read before the page, so it may repeat some of it: skip known ids).
   */
  readonly lastEventID: string;
  /** The selectors to subscribe to for this room: its topic and its presence. */
  readonly selectors: string[];
}

/**
 * A hub's subscription event as far as the chat reads it, from either shape: the
 * draft's (`type: "subscription"`, `match`) or the 0.x one (`type: "Subscription"`, `topic`).
 */
export interface SubscriptionEvent {
  /** The subscribed topic selector (draft `match`, 0.x `topic`). */
  readonly match: string;
  readonly subscriber: string;
  readonly active: boolean;
  readonly payload?: unknown;
}

/** The JSON object in an event's data; undefined for invalid JSON or anything but an object. */
function parseJsonObject(data: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

/** Parses a subscription event's data in either shape; undefined for anything else. */
export function parseSubscriptionEvent(data: string): SubscriptionEvent | undefined {
  const v = parseJsonObject(data);
  if (v === undefined) return undefined;
  const match = v.type === 'subscription' ? v.match : v.type === 'Subscription' ? v.topic : undefined;
  if (typeof match !== 'string' || typeof v.subscriber !== 'string' || typeof v.active !== 'boolean') return undefined;
  return { match, subscriber: v.subscriber, active: v.active, ...(v.payload === undefined ? {} : { payload: v.payload }) };
}

export function isChatUser(value: unknown): value is ChatUser {
  if (typeof value !== 'object' || value === null) return false;
  const { userId, nickname } = value as Record<string, unknown>;
  return typeof userId === 'string' && userId !== '' && typeof nickname === 'string' && nickname !== '';
}

/** Parses a message event's data defensively: anyone with a publisher token can publish to a room. */
export function parseChatMessage(data: string): ChatMessage | undefined {
  const v = parseJsonObject(data);
  if (v === undefined) return undefined;
  const strings = ['id', 'room', 'userId', 'nickname', 'text', 'sentAt'] as const;
  if (!strings.every((key) => typeof v[key] === 'string')) return undefined;
  const clientId = typeof v.clientId === 'string' ? v.clientId : null;
  return {
    id: v.id as string,
    room: v.room as string,
    userId: v.userId as string,
    nickname: v.nickname as string,
    text: v.text as string,
    sentAt: v.sentAt as string,
    clientId,
  };
}
