// The chat page: choose a nickname, join a room (the URL's #hash, default lobby),
// read its history, then follow it live over one stream (messages and presence, @herald/client),
// and send with fetch. Everything is served by Herald itself.
import { ALL_ROOMS_SELECTOR, DEFAULT_ROOM, isRoomName, parseChatMessage, roomOfTopic, type ChatUser, type RoomSummary } from '../../src/chat/protocol.js';
import { api, ApiError } from './api.js';
import { setUpComposer } from './composer.js';
import type { HeraldEvent } from '../../packages/client/src/index.js';
import { Connection, type ConnectionState } from './connection.js';
import { byId } from './dom.js';
import { MessagesView } from './messages-view.js';
import { Names } from './names.js';
import { setUpNickname } from './nickname.js';
import { PresenceNotices } from './notices.js';
import { parseSubscriptionEvent, Presence } from './presence.js';
import { renderRooms, renderUsers } from './sidebar.js';

const ROOMS_REFRESH_MS = 15_000;
const STATE_TEXT: Record<ConnectionState, string> = { connecting: 'Connecting…', connected: 'Connected', reconnecting: 'Reconnecting…', offline: 'Offline' };

const el = {
  welcome: byId('welcome'),
  nickInput: byId<HTMLInputElement>('nick-input'),
  nickError: byId('nick-error'),
  chat: byId('chat'),
  me: byId('me'),
  identity: byId('identity'),
  changeNick: byId<HTMLButtonElement>('change-nick'),
  status: byId('status'),
  roomTitle: byId('room-title'),
  roomList: byId<HTMLUListElement>('room-list'),
  joinForm: byId<HTMLFormElement>('join-form'),
  roomInput: byId<HTMLInputElement>('room-input'),
  roomError: byId('room-error'),
  scroller: byId('scroller'),
  messages: byId<HTMLOListElement>('messages'),
  loadEarlier: byId<HTMLButtonElement>('load-earlier'),
  userList: byId<HTMLUListElement>('user-list'),
  onlineCount: byId('online-count'),
};

let me: ChatUser | undefined;
let maxTextLength = 2000;
let room = DEFAULT_ROOM;
/** Bumped on every room switch: answers that arrive for an older room are dropped. */
let generation = 0;
let more = false;
/** Where the server's bounded scan stopped, when it stopped before finding a full page. */
let nextBefore: string | undefined;
let loadingEarlier = false;
let roomsTimer: number | undefined;
let knownRooms: readonly RoomSummary[] = [];
/** Messages from others in rooms that are not open, since this page last showed them. */
const unread = new Map<string, number>();

const presence = new Presence();
const names = new Names();
const view = new MessagesView(el.messages, el.scroller, () => me?.userId, names);
const notices = new PresenceNotices((kind, text) => view.notice(kind, text));
const nickname = setUpNickname({ me: () => me, maxLength: () => Number(el.nickInput.maxLength) || 32, onChosen: enterChat });
const connection = new Connection({
  onEvent,
  onState: showState,
  onReopen: () => void refreshUsers(generation).catch(() => undefined),
  onRefused: () => void renewSession(),
});
const composer = setUpComposer(
  { form: byId('composer'), text: byId('text'), counter: byId('counter'), error: byId('send-error') },
  { view, me: () => me, room: () => room, maxLength: () => maxTextLength, onSignedOut: () => nickname.ask(false) },
);

function showState(state: ConnectionState): void {
  el.status.dataset.state = state;
  el.status.textContent = STATE_TEXT[state];
}

function roomFromHash(): string {
  const name = decodeURIComponent(location.hash.slice(1)).trim().toLowerCase();
  return isRoomName(name) ? name : DEFAULT_ROOM;
}

function onEvent(event: HeraldEvent): void {
  const subscription = parseSubscriptionEvent(event.data);
  if (subscription !== undefined) {
    if (roomOfTopic(subscription.match) !== room) return;
    const change = presence.apply(subscription);
    noteNames(presence.list());
    renderUsers(el.userList, el.onlineCount, presence.list(), me?.userId, names);
    if (change === undefined) return;
    scheduleRoomsRefresh(300);
    if (change.user.userId !== me?.userId) notices.apply(change);
    return;
  }
  const message = parseChatMessage(event.data);
  if (message === undefined) return;
  if (message.room === room) {
    noteNames([message]);
    view.receive({ ...message, id: event.id || message.id });
  } else if (message.userId !== me?.userId) {
    unread.set(message.room, (unread.get(message.room) ?? 0) + 1);
    renderRooms(el.roomList, knownRooms, room, unread);
  }
}

/** Learns who uses which nickname; relabels everything once a nickname turns out to be shared. */
function noteNames(users: readonly ChatUser[]): void {
  let shared = false;
  for (const user of users) shared = names.note(user) || shared;
  if (!shared) return;
  view.relabel();
  renderUsers(el.userList, el.onlineCount, presence.list(), me?.userId, names);
}

async function refreshUsers(gen: number): Promise<void> {
  const { users } = await api.users(room);
  if (gen !== generation) return;
  presence.reset(users);
  noteNames(users);
  renderUsers(el.userList, el.onlineCount, presence.list(), me?.userId, names);
}

/**
 * A server restarted without a configured subscriber key signs with a new one, so the
 * cookie no longer opens the stream: sign in again under the same nickname.
 */
async function renewSession(): Promise<void> {
  const info = await api.session().catch(() => undefined);
  if (info === undefined || info.session !== null || me === undefined) return;
  const renewed = await api.login(me.nickname).catch(() => undefined);
  if (renewed?.session) enterChat(renewed.session);
}

async function refreshRooms(): Promise<void> {
  try {
    knownRooms = (await api.rooms()).rooms;
    renderRooms(el.roomList, knownRooms, room, unread);
  } catch {
    // The stream's state already tells the reader the server is away.
  }
  scheduleRoomsRefresh(ROOMS_REFRESH_MS);
}

function scheduleRoomsRefresh(delayMs: number): void {
  if (roomsTimer !== undefined) window.clearTimeout(roomsTimer);
  roomsTimer = window.setTimeout(() => void refreshRooms(), delayMs);
}

async function joinRoom(next: string): Promise<void> {
  const gen = ++generation;
  room = next;
  connection.close();
  view.clear();
  notices.clear();
  names.clear();
  unread.delete(room);
  presence.reset([]);
  renderUsers(el.userList, el.onlineCount, [], me?.userId, names);
  renderRooms(el.roomList, knownRooms, room, unread);
  el.roomTitle.textContent = `#${room}`;
  byId<HTMLTextAreaElement>('text').placeholder = `Message #${room}`;
  document.title = `#${room} · Herald`;
  el.loadEarlier.hidden = true;
  showState('connecting');
  void refreshRooms();
  try {
    // History first, then who is here, then the stream from where the history was read:
    // the stream replays whatever happened since, so nothing falls in between.
    const page = await api.history(room);
    if (gen !== generation) return;
    noteNames(page.messages);
    view.prepend(page.messages);
    more = page.more;
    nextBefore = page.next;
    el.loadEarlier.hidden = !more;
    await refreshUsers(gen);
    if (gen !== generation) return;
    // Every room's messages too (not their presence): they feed the unread counts.
    connection.open([...page.selectors, ALL_ROOMS_SELECTOR], page.lastEventID);
  } catch {
    if (gen !== generation) return;
    showState('offline');
    window.setTimeout(() => gen === generation && void joinRoom(room), 2000);
  }
}

async function loadEarlier(): Promise<void> {
  const before = nextBefore ?? view.oldestId;
  if (!more || loadingEarlier || before === undefined) return;
  loadingEarlier = true;
  const gen = generation;
  try {
    const page = await api.history(room, before);
    if (gen !== generation) return;
    noteNames(page.messages);
    view.prepend(page.messages);
    more = page.more;
    nextBefore = page.next;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) more = false;
  } finally {
    loadingEarlier = false;
    el.loadEarlier.hidden = !more;
  }
}

function enterChat(user: ChatUser): void {
  const first = me === undefined || el.chat.hidden;
  me = user;
  nickname.remembered(user.nickname);
  el.me.textContent = user.nickname;
  el.welcome.hidden = true;
  el.chat.hidden = false;
  // The connection badge and the room belong to the chat, not to the welcome screen.
  el.status.hidden = false;
  el.roomTitle.hidden = false;
  el.identity.hidden = false;
  // A new nickname needs a new connection: presence shows the token's payload.
  if (first) void joinRoom(roomFromHash());
  else connection.reopen();
  byId<HTMLTextAreaElement>('text').focus();
}

el.changeNick.addEventListener('click', () => nickname.ask(true));
el.joinForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const name = el.roomInput.value.trim().toLowerCase();
  if (!isRoomName(name)) {
    el.roomError.textContent = 'Letters a-z, digits and "-", up to 32';
    return;
  }
  el.roomError.textContent = '';
  el.roomInput.value = '';
  location.hash = `#${name}`;
});
window.addEventListener('hashchange', () => {
  const next = roomFromHash();
  if (me !== undefined && next !== room) void joinRoom(next);
});
el.loadEarlier.addEventListener('click', () => void loadEarlier());
el.scroller.addEventListener('scroll', () => {
  if (el.scroller.scrollTop < 40) void loadEarlier();
});

async function start(): Promise<void> {
  const info = await api.session();
  maxTextLength = info.limits.maxTextLength;
  el.nickInput.maxLength = info.limits.maxNicknameLength;
  composer.refresh();
  if (info.session === null) nickname.ask(false);
  else enterChat(info.session);
}

start().catch(() => {
  showState('offline');
  el.nickError.textContent = 'The server cannot be reached; reload the page to try again.';
  el.welcome.hidden = false;
});
