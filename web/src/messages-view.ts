// The message list: history, live messages, the sender's own messages shown at once
// (pending) and confirmed by the server's echo, and system notices. Every message is
// kept once: by its id (history and live may overlap) and, for one's own, by the
// clientId the page chose, so the echo replaces the optimistic line instead of
// adding a second one.
import type { ChatMessage } from '../../src/chat/protocol.js';
import { h, isNearBottom, scrollToBottom, timeElement } from './dom.js';

export type MessageState = 'pending' | 'sent' | 'delivered' | 'failed';

export class MessagesView {
  private readonly byId = new Map<string, HTMLLIElement>();
  private readonly byClientId = new Map<string, HTMLLIElement>();
  private oldest: string | undefined;

  constructor(
    private readonly list: HTMLOListElement,
    private readonly scroller: HTMLElement,
    private readonly myUserId: () => string | undefined,
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

  markFailed(clientId: string, reason: string): void {
    const line = this.byClientId.get(clientId);
    if (line === undefined) return;
    line.dataset.state = 'failed';
    line.querySelector('.note')?.replaceChildren(`not sent: ${reason}`);
  }

  /** A system line (join, leave, rename, info), its kind in data-kind. */
  notice(kind: string, text: string): void {
    this.append(h('li', { class: 'system', 'data-kind': kind }, h('span', { class: 'system-text' }, text), timeElement(new Date().toISOString())));
  }

  private append(line: HTMLLIElement): void {
    const follow = isNearBottom(this.scroller) || line.dataset.userId === this.myUserId();
    this.list.append(line);
    if (follow) scrollToBottom(this.scroller);
  }

  private line(message: ChatMessage, state: MessageState): HTMLLIElement {
    const line = h('li', { class: 'message' });
    if (message.clientId !== null && message.userId === this.myUserId()) this.byClientId.set(message.clientId, line);
    this.fill(line, message, state);
    if (state !== 'pending') this.byId.set(message.id, line);
    return line;
  }

  private fill(line: HTMLLIElement, message: ChatMessage, state: MessageState): void {
    line.dataset.state = state;
    line.dataset.userId = message.userId;
    if (state !== 'pending') line.dataset.id = message.id;
    if (message.userId === this.myUserId()) line.classList.add('own');
    line.replaceChildren(
      h('div', { class: 'meta' }, h('span', { class: 'author' }, message.nickname), timeElement(message.sentAt), h('span', { class: 'note', 'aria-live': 'polite' })),
      h('p', { class: 'text' }, message.text),
    );
  }
}
