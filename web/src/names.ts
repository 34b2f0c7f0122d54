// Telling apart people who chose the same nickname: a nickname shared by two userIds
// gets a short tag from each userId, so every reader sees the same "Sam #3f2a" for
// the same person, whatever order they arrived in.
import type { ChatUser } from '../../src/chat/protocol.js';

const TAG_LENGTH = 4;

export class Names {
  private readonly ids = new Map<string, Set<string>>();

  clear(): void {
    this.ids.clear();
  }

  /** Remembers who uses a nickname; true when that made a nickname newly shared. */
  note(user: ChatUser): boolean {
    let ids = this.ids.get(user.nickname);
    if (ids === undefined) this.ids.set(user.nickname, (ids = new Set()));
    if (ids.has(user.userId)) return false;
    ids.add(user.userId);
    return ids.size === 2;
  }

  /** The tag that tells this person apart, or undefined when the nickname is theirs alone. */
  tag(user: ChatUser): string | undefined {
    const ids = this.ids.get(user.nickname);
    if (ids === undefined || ids.size < 2) return undefined;
    return `#${user.userId.replace(/[^0-9a-z]/gi, '').slice(0, TAG_LENGTH)}`;
  }
}
