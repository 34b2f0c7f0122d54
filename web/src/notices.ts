// Join, leave and rename notices from presence changes. A reload closes a person's
// stream and opens another a moment later: announcing "left" then "joined" to everyone
// would be noise, so a leave is shown only after a few seconds, and a return within
// them cancels it (and makes no "joined"). The online list itself is not delayed.
import { LEAVE_NOTICE_DELAY_MS } from './delays.js';
import type { PresenceChange } from './presence.js';

export class PresenceNotices {
  private readonly leaving = new Map<string, { readonly timer: number; readonly nickname: string }>();

  constructor(
    private readonly show: (kind: string, text: string) => void,
    private readonly delayMs = LEAVE_NOTICE_DELAY_MS,
  ) {}

  apply(change: PresenceChange): void {
    const { userId, nickname } = change.user;
    if (change.kind === 'leave') {
      this.cancel(userId);
      const timer = window.setTimeout(() => {
        this.leaving.delete(userId);
        this.show('leave', `${nickname} left`);
      }, this.delayMs);
      this.leaving.set(userId, { timer, nickname });
      return;
    }
    const returning = change.kind === 'join' ? this.cancel(userId) : undefined;
    if (returning !== undefined) {
      // Back under another name (renamed while away): that is news, the return is not.
      if (returning !== nickname) this.show('rename', `${returning} is now ${nickname}`);
      return;
    }
    if (change.kind === 'rename') this.show('rename', `${change.from} is now ${nickname}`);
    else this.show('join', `${nickname} joined`);
  }

  /** Forgets pending leaves (another room is opened). */
  clear(): void {
    for (const { timer } of this.leaving.values()) window.clearTimeout(timer);
    this.leaving.clear();
  }

  /** Cancels a pending leave; the nickname the person left with, if one was pending. */
  private cancel(userId: string): string | undefined {
    const pending = this.leaving.get(userId);
    if (pending === undefined) return undefined;
    window.clearTimeout(pending.timer);
    this.leaving.delete(userId);
    return pending.nickname;
  }
}
