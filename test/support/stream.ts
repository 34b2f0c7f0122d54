// Subscribing in tests: a real `eventsource` client that records every event, and a
// raw socket reader for byte-exact checks. Both are awaited with deadlines, never slept on.
import { request } from 'node:http';
import { EventSource } from 'eventsource';

export interface ReceivedEvent {
  readonly type: string;
  readonly id: string;
  readonly data: string;
}

export interface CollectedStream {
  readonly source: EventSource;
  readonly events: ReceivedEvent[];
  /** Resolves once the stream is open (headers received). */
  readonly opened: Promise<void>;
  /** Resolves when `count` events have arrived, or rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedEvent[]>;
  close(): void;
}

export function collect(url: string, options: { token?: string; headers?: Record<string, string>; eventTypes?: string[] } = {}): CollectedStream {
  const extra: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) extra.Authorization = `Bearer ${options.token}`;
  const source = new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...extra } }),
  });
  const events: ReceivedEvent[] = [];
  const waiters: Array<() => void> = [];
  const record = (event: MessageEvent<string>) => {
    events.push({ type: event.type, id: event.lastEventId, data: event.data });
    for (const wake of waiters.splice(0)) wake();
  };
  source.addEventListener('message', record);
  for (const type of options.eventTypes ?? []) source.addEventListener(type, record);
  const opened = new Promise<void>((resolve, reject) => {
    source.addEventListener('open', () => resolve(), { once: true });
    source.addEventListener('error', (error) => reject(new Error(`stream error before open: ${String((error as { message?: string }).message)}`)), { once: true });
  });
  opened.catch(() => undefined);
  return {
    source,
    events,
    opened,
    waitFor: (count, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`timed out waiting for ${count} events; got ${events.length}: ${JSON.stringify(events.slice(-3))}`)), timeoutMs);
        const check = () => {
          if (events.length >= count) {
            clearTimeout(deadline);
            resolve(events.slice(0, count));
          } else waiters.push(check);
        };
        check();
      }),
    close: () => source.close(),
  };
}

export interface RawStream {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Everything received so far, as text. */
  text(): string;
  /** Resolves once the received text contains `needle`. */
  waitForText(needle: string, timeoutMs?: number): Promise<string>;
  close(): void;
}

/**
 * Opens the stream with a plain HTTP request and exposes the exact bytes. `send`
 * sends another method with a body (QUERY, RFC 10008).
 */
export function rawStream(url: string, headers: Record<string, string> = {}, send: { method: string; body: string } = { method: 'GET', body: '' }): Promise<RawStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: send.method, headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
      let received = '';
      const waiters: Array<() => void> = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        received += chunk;
        for (const wake of waiters.splice(0)) wake();
      });
      res.on('error', () => undefined);
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: () => received,
        waitForText: (needle, timeoutMs = 5000) =>
          new Promise((ok, fail) => {
            const deadline = setTimeout(() => fail(new Error(`timed out waiting for ${JSON.stringify(needle)}; got ${JSON.stringify(received)}`)), timeoutMs);
            const check = () => {
              if (received.includes(needle)) {
                clearTimeout(deadline);
                ok(received);
              } else waiters.push(check);
            };
            check();
          }),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end(send.body === '' ? undefined : send.body);
  });
}
