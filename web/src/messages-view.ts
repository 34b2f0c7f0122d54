// The message list: history, live messages, the sender's own messages shown at once
// (pending) and confirmed by the server's echo, and system notices. Every message is
// kept once: by its id (history and live may overlap) and, for one's own, by the
// clientId the page chose, so the echo replaces the optimistic line instead of
// adding a second one. A message that could not be sent stays, with Retry.
import type { ChatMessage, ChatUser } from '../../src/chat/protocol.js';
import { h, isNearBottom, scrollToBottom, timeElement } from './dom.js';
import { linkify } from './links.js';
import type { Names } from './names.js';

export type MessageState = 'pending' | 'sent' | 'delivered' | 'failed';

/** Messages of one person closer than this read as one block, under one name. */
const GROUP_GAP_MS = 5 * 60_000;

export class MessagesView {
  private readonly byId = new Map<string, HTMLLIElement>();
  private readonly byClientId = new Map<string, HTMLLIElement>();
  private oldest: string | undefined;

  constructor(
    private readonly list: HTMLOListElement,
    private readonly scroller: HTMLElement,
    private readonly myUserId: () => string | undefined,
    private readonly names: Names,
  ) {}

  clear(): void {
    this.list.replaceChildren();
    this.byId.clear();
    this.byClientId.clear();
    this.oldest = undefined;
  }

  /** The id to page back from ("load earlier"). */
  get oldestId(): string | undefined {
    return this.oldest;
  }

  /** A history page, older than everything shown: goes on top, keeping what the reader looks at in place. */
  prepend(messages: readonly ChatMessage[]): void {
    const fresh = messages.filter((m) => !this.byId.has(m.id));
    if (messages.length > 0) this.oldest = messages[0]!.id;
    const before = this.scroller.scrollHeight;
    const keepAtBottom = this.list.childElementCount === 0;
    this.list.prepend(...fresh.map((m) => this.line(m, 'delivered')));
    for (const line of this.list.children) regroup(line);
    if (keepAtBottom) scrollToBottom(this.scroller);
    else this.scroller.scrollTop += this.scroller.scrollHeight - before;
  }

  /** A message from the stream. */
  receive(message: ChatMessage): void {
    const own = message.clientId !== null && message.userId === this.myUserId() ? this.byClientId.get(message.clientId) : undefined;
    if (own !== undefined && own.dataset.state !== 'delivered') {
      // The echo fixes where it sits: the order everyone else sees.
      this.fill(own, message, 'delivered');
      this.byId.set(message.id, own);
      this.append(own);
      return;
    }
    if (this.byId.has(message.id)) return;
    if (this.oldest === undefined) this.oldest = message.id;
    this.append(this.line(message, 'delivered'));
  }

  /** One's own message, before the server has it. */
  addPending(message: ChatMessage): void {
    this.append(this.line(message, 'pending'));
  }

  /** The server stored it (201); the echo may still be on its way. */
  markSent(clientId: string, message: ChatMessage): void {
    const line = this.byClientId.get(clientId);
    if (line === undefined || line.dataset.state === 'delivered') return;
    this.fill(line, message, 'sent');
    this.byId.set(message.id, line);
  }

  /** Not sent: the line stays with the reason and a Retry button (the text is not lost). */
  markFailed(clientId: string, reason: string, retry: () => void): void {
    const line = this.byClientId.get(clientId);
    if (line === undefined || line.dataset.state === 'delivered' || line.dataset.state === 'sent') return;
    line.dataset.state = 'failed';
    const button = h('button', { type: 'button', class: 'retry' }, 'Retry');
    button.addEventListener('click', () => {
      line.dataset.state = 'pending';
      line.querySelector('.note')?.replaceChildren();
      retry();
    });
    line.querySelector('.note')?.replaceChildren(h('strong', {}, 'Not sent.'), ' ', h('span', { class: 'reason' }, reason), ' ', button);
  }

  /** A system line (join, leave, rename, info), its kind in data-kind. */
  notice(kind: string, text: string): void {
    this.append(h('li', { class: 'system', 'data-kind': kind }, h('span', { class: 'system-text' }, text), timeElement(new Date().toISOString())));
  }

  /** Authors seen so far, for telling apart equal nicknames. */
  authors(): ChatUser[] {
    return Array.from(this.list.querySelectorAll<HTMLLIElement>('li.message'), (line) => ({ userId: line.dataset.userId ?? '', nickname: line.dataset.nickname ?? '' }));
  }

  /** Rewrites every author name (after a nickname became shared). */
  relabel(): void {
    for (const line of this.list.querySelectorAll<HTMLLIElement>('li.message')) {
      line.querySelector('.author')?.replaceWith(this.author({ userId: line.dataset.userId ?? '', nickname: line.dataset.nickname ?? '' }));
    }
  }

  private append(line: HTMLLIElement): void {
    const follow = isNearBottom(this.scroller) || line.dataset.userId === this.myUserId();
    // An echo moves a line: what followed it may now continue a different one.
    const formerNext = line.parentElement === this.list ? line.nextElementSibling : null;
    this.list.append(line);
    if (formerNext !== null) regroup(formerNext);
    regroup(line);
    if (follow) scrollToBottom(this.scroller);
  }

  private line(message: ChatMessage, state: MessageState): HTMLLIElement {
    const line = h('li', { class: 'message' });
    if (message.clientId !== null && message.userId === this.myUserId()) this.byClientId.set(message.clientId, line);
    this.fill(line, message, state);
    if (state !== 'pending') this.byId.set(message.id, line);
    return line;
  }

  private author(user: ChatUser): HTMLElement {
    const tag = this.names.tag(user);
    return h('span', { class: 'author' }, user.nickname, ...(tag === undefined ? [] : [h('span', { class: 'tag' }, ` ${tag}`)]));
  }

  private fill(line: HTMLLIElement, message: ChatMessage, state: MessageState): void {
    line.dataset.state = state;
    line.dataset.userId = message.userId;
    line.dataset.nickname = message.nickname;
    line.dataset.sentAt = message.sentAt;
    if (state !== 'pending') line.dataset.id = message.id;
    if (message.userId === this.myUserId()) line.classList.add('own');
    line.replaceChildren(
      h('div', { class: 'meta' }, this.author(message), timeElement(message.sentAt), h('span', { class: 'note', 'aria-live': 'polite' })),
      h('p', { class: 'text' }, ...linkify(message.text)),
    );
  }
}

/** True when a message continues the one above it: same person, shortly after. */
function continues(line: Element): boolean {
  const previous = line.previousElementSibling;
  return (
    line instanceof HTMLLIElement &&
    previous instanceof HTMLLIElement &&
    line.classList.contains('message') &&
    previous.classList.contains('message') &&
    previous.dataset.userId === line.dataset.userId &&
    previous.dataset.nickname === line.dataset.nickname &&
    Math.abs(Date.parse(line.dataset.sentAt ?? '') - Date.parse(previous.dataset.sentAt ?? '')) < GROUP_GAP_MS
  );
}

/** Groups a line with the one above, and the one below with it (a line moved or was inserted). */
function regroup(line: Element): void {
  line.classList.toggle('continued', continues(line));
  const next = line.nextElementSibling;
  next?.classList.toggle('continued', continues(next));
}
