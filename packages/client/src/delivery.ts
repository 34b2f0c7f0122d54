// The application's side of a subscription, whichever tab holds the stream: drops
// events already delivered (a renewal overlaps two streams for a moment; a new leader
// tab replays what the old one may have shared already), remembers and stores the
// last id, decodes, and calls the handlers.
import type { HeraldClientError } from './errors.js';
import type { ConnectionState, EventMap, Gap, Handlers, HeraldEvent, IdStorage, OpenInfo } from './types.js';

/** An event as it travels between the stream, the tabs and the delivery. */
export interface WireEvent {
  readonly id: string;
  /** The event carried an empty `id:` field: as in EventSource, the next connection resumes from nothing. */
  readonly resetsId?: true;
  readonly type: string;
  readonly data: string;
}

/** Where a stream's output goes. */
export interface Outlet {
  /** The id to resume from. */
  readonly lastEventId: string | undefined;
  /** False when the event was delivered before (and so was dropped). */
  event(event: WireEvent): boolean;
  gap(gap: Gap): void;
  state(state: ConnectionState): void;
  open(info: OpenInfo): void;
  error(error: HeraldClientError, fatal: boolean): void;
}

/** The last `size` ids, in a set and a ring: enough for any overlap, bounded for a long life. */
class RecentIds {
  private readonly set = new Set<string>();
  private readonly ring: string[] = [];
  private next = 0;
  constructor(private readonly size: number) {}

  has(id: string): boolean {
    return this.set.has(id);
  }

  add(id: string): void {
    const old = this.ring[this.next];
    if (old !== undefined) this.set.delete(old);
    this.ring[this.next] = id;
    this.next = (this.next + 1) % this.size;
    this.set.add(id);
  }
}

export class Delivery<M extends EventMap> implements Outlet {
  lastEventId: string | undefined;
  current: ConnectionState = 'connecting';
  private readonly seen = new RecentIds(1024);

  constructor(
    private readonly handlers: Handlers<M>,
    private readonly decode: ((data: string, type: string) => M[keyof M]) | undefined,
    private readonly storage: { readonly store: IdStorage; readonly key: string } | undefined,
    lastEventId: string | undefined,
  ) {
    this.lastEventId = lastEventId ?? readStored(storage);
  }

  event(wire: WireEvent): boolean {
    if (wire.resetsId === true) this.remember(undefined);
    else if (wire.id !== '') {
      if (this.seen.has(wire.id)) return false;
      this.seen.add(wire.id);
      this.remember(wire.id);
    }
    const data = this.decode === undefined ? (wire.data as M[keyof M]) : this.decode(wire.data, wire.type);
    const event: HeraldEvent<M[keyof M]> = { id: wire.id, type: wire.type, data, raw: wire.data };
    const typed = this.handlers.on?.[wire.type as keyof M] as ((e: HeraldEvent<M[keyof M]>) => void) | undefined;
    typed?.(event);
    this.handlers.event?.(event);
    return true;
  }

  private remember(id: string | undefined): void {
    this.lastEventId = id;
    try {
      this.storage?.store.setItem(this.storage.key, id ?? '');
    } catch {
      // A full or refused storage only loses resumption across page loads.
    }
  }

  gap(gap: Gap): void {
    this.handlers.gap?.(gap);
  }

  state(state: ConnectionState): void {
    if (state === this.current) return;
    this.current = state;
    this.handlers.state?.(state);
  }

  open(info: OpenInfo): void {
    this.handlers.open?.(info);
  }

  error(error: HeraldClientError, fatal: boolean): void {
    this.handlers.error?.(error, fatal);
  }
}

function readStored(storage: { readonly store: IdStorage; readonly key: string } | undefined): string | undefined {
  try {
    // '' is what a reset stored: no id to resume from.
    return storage?.store.getItem(storage.key) || undefined;
  } catch {
    return undefined;
  }
}

/** Reads the gap event's JSON; undefined when it is not what the hub sends. */
export function parseGap(data: string): Gap | undefined {
  try {
    const value = JSON.parse(data) as Record<string, unknown>;
    const { reason, lastEventId, resumeFrom } = value;
    if ((reason !== 'unknown_id' && reason !== 'replay_cut') || typeof lastEventId !== 'string') return undefined;
    if (resumeFrom !== null && typeof resumeFrom !== 'string') return undefined;
    return { reason, lastEventId, resumeFrom };
  } catch {
    return undefined;
  }
}
