// Choosing a nickname: the welcome screen the first time (it cannot be dismissed),
// and a modal dialog for "Change nickname" (Escape or Cancel closes it, the chat
// stays behind it). One form serves both: it moves into whichever is shown.
import type { ChatUser } from '../../src/chat/protocol.js';
import { api } from './api.js';
import { byId } from './dom.js';
import { nicknameFailure } from './wording.js';

const NICKNAME_KEY = 'herald.nickname';

export interface NicknameContext {
  me(): ChatUser | undefined;
  maxLength(): number;
  onChosen(user: ChatUser): void;
}

export function setUpNickname(context: NicknameContext): { ask(cancelable: boolean): void; remembered(nickname: string): void } {
  const welcome = byId('welcome');
  const dialog = byId<HTMLDialogElement>('nick-dialog');
  const form = byId<HTMLFormElement>('nick-form');
  const input = byId<HTMLInputElement>('nick-input');
  const error = byId('nick-error');
  const cancel = byId<HTMLButtonElement>('nick-cancel');
  const title = byId('welcome-title');
  const submit = form.querySelector<HTMLButtonElement>('button[type="submit"]');

  const ask = (cancelable: boolean) => {
    error.textContent = '';
    input.value = context.me()?.nickname ?? localStorage.getItem(NICKNAME_KEY) ?? '';
    cancel.hidden = !cancelable;
    if (cancelable) {
      title.textContent = 'Change your nickname';
      if (submit !== null) submit.textContent = 'Save';
      dialog.append(form);
      if (!dialog.open) dialog.showModal();
    } else {
      if (dialog.open) dialog.close();
      title.textContent = 'Choose a nickname';
      if (submit !== null) submit.textContent = 'Enter the chat';
      welcome.append(form);
      welcome.hidden = false;
    }
    input.focus();
    input.select();
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    api.login(input.value).then(
      (info) => {
        if (info.session === null) return;
        if (dialog.open) dialog.close();
        welcome.hidden = true;
        localStorage.setItem(NICKNAME_KEY, info.session.nickname);
        context.onChosen(info.session);
      },
      (failure: unknown) => (error.textContent = nicknameFailure(failure, context.maxLength())),
    );
  });
  cancel.addEventListener('click', () => dialog.close());
  return { ask, remembered: (nickname) => localStorage.setItem(NICKNAME_KEY, nickname) };
}
