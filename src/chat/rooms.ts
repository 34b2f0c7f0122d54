// Who is in which room, read from the hub's subscription records (shared by every
// process through the broker, so the counts hold when Herald runs on several).
// A person is a userId from the session payload: two tabs are one person.
import type { SubscriptionRecord } from '../broker/types.js';
import { HeraldError } from '../errors.js';
import { DEFAULT_ROOM, isChatUser, isRoomName, roomOfTopic, roomTopic, type OnlineUser, type RoomSummary } from './protocol.js';

export function validateRoom(room: string): string {
  if (!isRoomName(room)) {
    throw new HeraldError('invalid_field', `Room names are 1 to 32 characters: lowercase letters, digits and "-", starting with a letter or digit (got ${JSON.stringify(room.slice(0, 40))})`);
  }
  return room;
}

/**
 * Online people per room. Subscribers without a chat session (plain Mercure clients
 * listening to a room topic) are not people with a name, so they are not counted.
 */
function peopleByRoom(records: readonly SubscriptionRecord[]): Map<string, Map<string, OnlineUser>> {
  const rooms = new Map<string, Map<string, OnlineUser>>();
  for (const record of records) {
    const room = roomOfTopic(record.topic);
    if (room === undefined || !isChatUser(record.payload)) continue;
    let people = rooms.get(room);
    if (people === undefined) rooms.set(room, (people = new Map()));
    const { userId, nickname } = record.payload;
    const person = people.get(userId);
    if (person === undefined) people.set(userId, { userId, nickname, subscribers: [record.subscriber] });
    else person.subscribers.push(record.subscriber);
  }
  return rooms;
}

/** Rooms with someone in them, most people first, and the default room always. */
export function listRooms(records: readonly SubscriptionRecord[]): RoomSummary[] {
  const rooms = peopleByRoom(records);
  const summaries = [...rooms].map(([name, people]) => ({ name, topic: roomTopic(name), online: people.size }));
  if (!rooms.has(DEFAULT_ROOM)) summaries.push({ name: DEFAULT_ROOM, topic: roomTopic(DEFAULT_ROOM), online: 0 });
  return summaries.sort((a, b) => b.online - a.online || a.name.localeCompare(b.name));
}

/** The people in one room, by nickname (a person with two tabs once, with both connections). */
export function usersInRoom(records: readonly SubscriptionRecord[], room: string): OnlineUser[] {
  const people = peopleByRoom(records).get(room);
  if (people === undefined) return [];
  return [...people.values()].sort((a, b) => a.nickname.localeCompare(b.nickname) || a.userId.localeCompare(b.userId));
}
