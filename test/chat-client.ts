// A tiny chat API client for the end-to-end tests: real HTTP, a cookie jar of one
// cookie (the session), and the Origin header a browser would send.
import { presenceSelector, roomTopic } from '../src/chat/protocol.js';
import type { SubscriptionsFormat } from '../src/hub/mercure-paths.js';
import { hubUrl } from './support/herald.js';
import { collect, type CollectedStream } from './support/stream.js';

export interface Reply<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export class ChatClient {
  cookie: string | undefined;

  /** `format`: the hub's --subscriptions-format (default draft), which decides the presence selector the page opens. */
  constructor(readonly baseUrl: string, readonly format: SubscriptionsFormat = 'draft') {}

  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    const sent: Record<string, string> = { Origin: this.baseUrl, ...headers };
    if (this.cookie !== undefined) sent.Cookie = this.cookie;
    if (body !== undefined) sent['Content-Type'] = 'application/json';
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body) });
    const setCookie = response.headers.getSetCookie().find((c) => c.startsWith('mercureAuthorization='));
    if (setCookie !== undefined) {
      const pair = setCookie.split(';')[0]!;
      this.cookie = pair === 'mercureAuthorization=' ? undefined : pair;
    }
    const text = await response.text();
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T, headers: response.headers };
  }

  async login(nickname: string): Promise<{ userId: string; nickname: string }> {
    const reply = await this.request<{ session: { userId: string; nickname: string } }>('POST', '/api/session', { nickname });
    if (reply.status !== 200) throw new Error(`login failed: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body.session;
  }

  send(room: string, text: string, clientId?: string): Promise<Reply> {
    return this.request('POST', `/api/rooms/${room}/messages`, clientId === undefined ? { text } : { text, clientId });
  }

  /** What the page opens: the room's topic and its presence, with the session cookie. */
  stream(room: string, lastEventId?: string): CollectedStream {
    const params: Array<[string, string]> = [['topic', roomTopic(room)], ['topic', presenceSelector(room, this.format)]];
    if (lastEventId !== undefined) params.push(['lastEventID', lastEventId]);
    // Draft-shaped subscription events come with the SSE type `mercure`.
    return collect(hubUrl(this.baseUrl, params), { headers: this.cookie === undefined ? {} : { Cookie: this.cookie }, eventTypes: ['mercure'] });
  }
}

/** Waits for the `count`-th event whose data satisfies `predicate` (the hub publishes presence asynchronously). */
export async function waitForEvent(
  stream: CollectedStream,
  predicate: (data: Record<string, unknown>) => boolean,
  count = 1,
  timeoutMs = 5000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let matched = 0;
  for (let seen = 0; ; ) {
    while (seen < stream.events.length) {
      const data = JSON.parse(stream.events[seen++]!.data) as Record<string, unknown>;
      if (predicate(data) && ++matched === count) return data;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(stream.events.map((e) => e.data))}`);
    await stream.waitFor(seen + 1, left);
  }
}
