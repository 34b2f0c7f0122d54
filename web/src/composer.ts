// The message box: a live length counter, Enter to send (Shift+Enter for a new line),
// refusal of empty or too long messages before any request, and the sender's
// message shown at once while the request is in flight; a refused or lost one stays on
// the page as "not sent" with Retry, explained in plain words.
import { textLength, type ChatUser } from '../../src/chat/protocol.js';
import { api, ApiError } from './api.js';
import type { MessagesView } from './messages-view.js';
import { checkComposition } from './sidebar.js';
import { sendFailure } from './wording.js';

export interface ComposerElements {
  readonly form: HTMLFormElement;
  readonly text: HTMLTextAreaElement;
  readonly counter: HTMLElement;
  readonly error: HTMLElement;
}

export interface ComposerContext {
  readonly view: MessagesView;
  me(): ChatUser | undefined;
  room(): string;
  maxLength(): number;
  /** The session is gone (401): ask for a nickname again. */
  onSignedOut(): void;
}

/** A random id for matching the echo; crypto.randomUUID needs a secure context, getRandomValues does not. */
function newClientId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function setUpComposer(elements: ComposerElements, context: ComposerContext): { refresh(): void } {
  const { form, text, counter, error } = elements;

  const refresh = () => {
    const n = textLength(text.value);
    const max = context.maxLength();
    counter.textContent = `${n} / ${max}`;
    const over = n > max;
    counter.classList.toggle('over', over);
    text.setAttribute('aria-invalid', over ? 'true' : 'false');
    if (!over && error.dataset.reason === 'length') error.textContent = '';
  };

  /** One attempt; on failure the line stays with Retry, which tries again with the same clientId. */
  const deliver = async (room: string, message: string, clientId: string): Promise<void> => {
    try {
      context.view.markSent(clientId, await api.send(room, message, clientId));
      if (error.dataset.reason === 'send') error.textContent = '';
    } catch (failure) {
      const words = sendFailure(failure);
      context.view.markFailed(clientId, words, () => void deliver(room, message, clientId));
      error.textContent = words;
      error.dataset.reason = 'send';
      if (failure instanceof ApiError && failure.status === 401) context.onSignedOut();
    }
  };

  const send = () => {
    const check = checkComposition(text.value, context.maxLength(), textLength);
    if (!check.ok) {
      error.textContent = check.reason;
      error.dataset.reason = 'length';
      return;
    }
    const me = context.me();
    if (me === undefined) return context.onSignedOut();
    error.textContent = '';
    const room = context.room();
    const clientId = newClientId();
    context.view.addPending({ id: '', room, userId: me.userId, nickname: me.nickname, text: check.text, sentAt: new Date().toISOString(), clientId });
    text.value = '';
    refresh();
    void deliver(room, check.text, clientId);
  };

  text.addEventListener('input', refresh);
  text.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    send();
    text.focus();
  });
  refresh();
  return { refresh };
}
