// What the client's tests share: a recorder of everything a subscription reports,
// awaited with deadlines, and a count of the stream requests a server received.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { trackConnections } from '../../../src/shutdown.js';
import type { HeraldClientError } from '../src/errors.js';
import type { ConnectionState, Gap, Handlers, HeraldEvent, OpenInfo } from '../src/types.js';

export interface Recorder<T = string> {
  readonly handlers: Handlers<{ message: T } & Record<string, T>>;
  readonly events: Array<HeraldEvent<T>>;
  readonly ids: () => string[];
  readonly states: ConnectionState[];
  readonly gaps: Gap[];
  readonly opens: OpenInfo[];
  readonly errors: Array<{ error: HeraldClientError; fatal: boolean }>;
  /** Resolves when `check` holds after some report, or rejects after `timeoutMs` with what was seen. */
  until(what: string, check: () => boolean, timeoutMs?: number): Promise<void>;
}

export function recorder<T = string>(): Recorder<T> {
  const events: Array<HeraldEvent<T>> = [];
  const states: ConnectionState[] = [];
  const gaps: Gap[] = [];
  const opens: OpenInfo[] = [];
  const errors: Array<{ error: HeraldClientError; fatal: boolean }> = [];
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  const ids = (): string[] => events.map((e) => e.id);
  return {
    events,
    ids,
    states,
    gaps,
    opens,
    errors,
    handlers: {
      event: (event) => (events.push(event), notify()),
      state: (state) => (states.push(state), notify()),
      gap: (gap) => (gaps.push(gap), notify()),
      open: (info) => (opens.push(info), notify()),
      error: (error, fatal) => (errors.push({ error, fatal }), notify()),
    },
    until(what, check, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const waiter = (): void => {
          if (!check()) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`timed out waiting for ${what}: ids ${JSON.stringify(ids())}, states ${JSON.stringify(states)}, errors ${JSON.stringify(errors.map((e) => `${e.error.code} ${e.error.message}`))}`));
        }, timeoutMs);
        waiters.add(waiter);
        waiter();
      });
    },
  };
}

/**
 * The event streams a server opened (their URLs, from GET requests to the hub path as
 * they arrive), and a way to cut every connection whichever door holds it.
 */
export function countStreams(server: Server): { readonly urls: URL[]; cutAll(): void } {
  const urls: URL[] = [];
  const sockets = trackConnections(server);
  // From the bytes on the wire, not Node's 'request' event: the raw front door reads
  // the hub's requests itself and never makes Node's request objects.
  server.on('connection', (socket: Socket) => {
    socket.on('data', (chunk: Buffer) => {
      for (const match of chunk.toString('latin1').matchAll(/(?:^|\r\n)GET (\/\.well-known\/mercure\?\S*) HTTP\/1\.1\r\n/g)) urls.push(new URL(match[1]!, 'http://x'));
    });
  });
  return { urls, cutAll: () => { for (const socket of sockets) socket.destroy(); } };
}
