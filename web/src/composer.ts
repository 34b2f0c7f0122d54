// The message box: a live length counter, Enter to send (Shift+Enter for a new line),
// refusal of empty or too long messages before any request, and the sender's
// message shown at once while the request is in flight.
import { textLength, type ChatMessage, type ChatUser } from '../../src/chat/protocol.js';
import { api, ApiError } from './api.js';
import type { MessagesView } from './messages-view.js';
import { checkComposition } from './sidebar.js';

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

  const send = async () => {
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
    const pending: ChatMessage = { id: '', room, userId: me.userId, nickname: me.nickname, text: check.text, sentAt: new Date().toISOString(), clientId };
    context.view.addPending(pending);
    text.value = '';
    refresh();
    try {
      context.view.markSent(clientId, await api.send(room, check.text, clientId));
    } catch (failure) {
      const reason = failure instanceof ApiError ? failure.message : 'unexpected failure';
      context.view.markFailed(clientId, reason);
      error.textContent = failure instanceof ApiError && failure.retryAfterSeconds !== undefined ? `Slow down: try again in ${failure.retryAfterSeconds} s` : `Not sent: ${reason}`;
      error.dataset.reason = 'send';
      if (failure instanceof ApiError && failure.status === 401) context.onSignedOut();
    }
  };

  text.addEventListener('input', refresh);
  text.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void send();
    }
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void send();
    text.focus();
  });
  refresh();
  return { refresh };
}
