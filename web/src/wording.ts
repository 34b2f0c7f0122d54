// What the page says when something goes wrong: words a person understands, chosen
// from the status and code of a refusal. The API's own messages are written for
// developers (they name fields and endpoints), so they never reach the screen.
import { ApiError } from './api.js';

/** Why a message was not sent, as a short sentence. */
export function sendFailure(failure: unknown): string {
  if (!(failure instanceof ApiError)) return 'Something went wrong on this page. Try again.';
  if (failure.status === 0) return 'You seem to be offline. It will be sent when you retry.';
  if (failure.status === 401) return 'Your session has ended. Choose a nickname to continue.';
  if (failure.status === 429) {
    const wait = failure.retryAfterSeconds;
    return wait === undefined ? 'You are sending too fast. Wait a moment, then retry.' : `You are sending too fast. Retry in ${wait} s.`;
  }
  if (failure.status === 413) return 'This message is too long.';
  if (failure.status === 400) return 'This message cannot be sent as it is.';
  if (failure.status === 403) return 'The server refused this page. Reload it and try again.';
  if (failure.status >= 500) return 'The server has a problem right now. Retry in a moment.';
  return 'The message could not be sent. Retry in a moment.';
}

/** Why a nickname was refused. */
export function nicknameFailure(failure: unknown, maxLength: number): string {
  if (!(failure instanceof ApiError) || failure.status === 0) return 'The server cannot be reached. Check your connection and try again.';
  if (failure.status === 400) return `Choose a nickname of 1 to ${maxLength} characters, without invisible or control characters.`;
  if (failure.status === 429) return 'Too many attempts. Wait a moment, then try again.';
  if (failure.status >= 500) return 'The server has a problem right now. Try again in a moment.';
  return 'That nickname cannot be used. Try another one.';
}
