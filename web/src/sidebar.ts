// The two side panels: rooms with how many people are in each and how many messages
// are unread (links, so a room can be opened in another tab), and the people online
// in the current room, equal nicknames told apart by a tag.
import type { ChatUser, RoomSummary } from '../../src/chat/protocol.js';
import { h } from './dom.js';
import type { Names } from './names.js';

/** Rooms with their online count, and how many messages arrived in each since it was last open. */
export function renderRooms(list: HTMLUListElement, rooms: readonly RoomSummary[], current: string, unread: ReadonlyMap<string, number>): void {
  const shown = [...rooms];
  for (const name of [current, ...unread.keys()]) {
    if (!shown.some((room) => room.name === name)) shown.push({ name, topic: '', online: 0 });
  }
  list.replaceChildren(
    ...shown.map((room) => {
      const label = `${room.online} online`;
      const count = room.name === current ? 0 : (unread.get(room.name) ?? 0);
      const link = h(
        'a',
        { href: `#${room.name}`, 'aria-current': room.name === current ? 'page' : undefined, 'data-room': room.name, title: `#${room.name}` },
        h('span', { class: 'room-name' }, `#${room.name}`),
        ...(count > 0 ? [h('span', { class: 'unread', 'aria-label': `${count} unread`, title: `${count} unread` }, count > 99 ? '99+' : String(count))] : []),
        h('span', { class: 'badge', 'aria-label': label, title: label }, String(room.online)),
      );
      return h('li', {}, link);
    }),
  );
}

export function renderUsers(list: HTMLUListElement, count: HTMLElement, users: readonly ChatUser[], myUserId: string | undefined, names: Names): void {
  count.textContent = `(${users.length})`;
  list.replaceChildren(
    ...users.map((user) => {
      const item = h('li', { 'data-user-id': user.userId }, user.nickname);
      const tag = names.tag(user);
      if (tag !== undefined) item.append(h('span', { class: 'tag' }, ` ${tag}`));
      if (user.userId === myUserId) {
        item.classList.add('me');
        item.append(h('span', { class: 'you' }, ' (you)'));
      }
      return item;
    }),
  );
}

export type Composition = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly reason: string };

/** What the composer may send: the same rules as the server, checked before a round trip. */
export function checkComposition(raw: string, maxLength: number, length: (text: string) => number): Composition {
  if (raw.trim() === '') return { ok: false, reason: 'Type a message first' };
  const n = length(raw);
  if (n > maxLength) return { ok: false, reason: `Too long: ${n - maxLength} characters over the limit` };
  return { ok: true, text: raw };
}
