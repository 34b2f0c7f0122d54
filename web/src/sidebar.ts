// The two side panels: rooms with how many people are in each (links, so a room can
// be opened in another tab), and the people online in the current room.
import type { ChatUser, RoomSummary } from '../../src/chat/protocol.js';
import { h } from './dom.js';

export function renderRooms(list: HTMLUListElement, rooms: readonly RoomSummary[], current: string): void {
  const shown = rooms.some((room) => room.name === current) ? rooms : [...rooms, { name: current, topic: '', online: 0 }];
  list.replaceChildren(
    ...shown.map((room) => {
      const label = `${room.online} online`;
      const link = h(
        'a',
        { href: `#${room.name}`, 'aria-current': room.name === current ? 'page' : undefined, 'data-room': room.name },
        h('span', { class: 'room-name' }, `#${room.name}`),
        h('span', { class: 'badge', 'aria-label': label, title: label }, String(room.online)),
      );
      return h('li', {}, link);
    }),
  );
}

export function renderUsers(list: HTMLUListElement, count: HTMLElement, users: readonly ChatUser[], myUserId: string | undefined): void {
  count.textContent = `(${users.length})`;
  list.replaceChildren(
    ...users.map((user) => {
      const item = h('li', { 'data-user-id': user.userId }, user.nickname);
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
