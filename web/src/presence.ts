// Who is in the room, kept from a snapshot (GET /api/rooms/:room/users) plus the
// hub's subscription events. A person is a userId with a set of connections
// (subscriber IRIs): only their first connection joins and only their last one
// leaves, so a second tab makes no notice and counts once.
import { isChatUser, parseSubscriptionEvent, type ChatUser, type OnlineUser, type SubscriptionEvent } from '../../src/chat/protocol.js';

export type PresenceChange =
  | { readonly kind: 'join' | 'leave'; readonly user: ChatUser }
  | { readonly kind: 'rename'; readonly user: ChatUser; readonly from: string };

interface Person {
  nickname: string;
  readonly connections: Set<string>;
}

export { parseSubscriptionEvent };

export class Presence {
  private readonly people = new Map<string, Person>();
  /** Which person each connection belongs to: leave events are matched by connection. */
  private readonly owners = new Map<string, string>();

  /** Replaces everything with a snapshot; returns nothing to announce (it is the starting point). */
  reset(users: readonly OnlineUser[]): void {
    this.people.clear();
    this.owners.clear();
    for (const user of users) {
      for (const subscriber of user.subscribers) this.connect(user, subscriber);
    }
  }

  /** Applies one subscription event; says what a person would notice, if anything. */
  apply(event: SubscriptionEvent): PresenceChange | undefined {
    if (event.active) {
      if (!isChatUser(event.payload)) return undefined;
      const user = event.payload;
      const known = this.people.get(user.userId);
      const from = known?.nickname;
      this.connect(user, event.subscriber);
      if (known === undefined) return { kind: 'join', user: { userId: user.userId, nickname: user.nickname } };
      if (from !== user.nickname) return { kind: 'rename', user: { userId: user.userId, nickname: user.nickname }, from: from ?? '' };
      return undefined;
    }
    const userId = this.owners.get(event.subscriber);
    if (userId === undefined) return undefined;
    this.owners.delete(event.subscriber);
    const person = this.people.get(userId);
    if (person === undefined) return undefined;
    person.connections.delete(event.subscriber);
    if (person.connections.size > 0) return undefined;
    this.people.delete(userId);
    return { kind: 'leave', user: { userId, nickname: person.nickname } };
  }

  /** People online, by nickname. */
  list(): ChatUser[] {
    return [...this.people]
      .map(([userId, person]) => ({ userId, nickname: person.nickname }))
      .sort((a, b) => a.nickname.localeCompare(b.nickname) || a.userId.localeCompare(b.userId));
  }

  get size(): number {
    return this.people.size;
  }

  private connect(user: ChatUser, subscriber: string): void {
    let person = this.people.get(user.userId);
    if (person === undefined) this.people.set(user.userId, (person = { nickname: user.nickname, connections: new Set() }));
    // The newest connection carries the current nickname (a rename reconnects).
    person.nickname = user.nickname;
    person.connections.add(subscriber);
    this.owners.set(subscriber, user.userId);
  }
}
