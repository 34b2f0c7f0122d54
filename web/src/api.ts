// The chat API as the page uses it: same-origin fetch (the session cookie rides along;
// the browser adds the Origin header the server checks on writes).
import type { ChatMessage, HistoryPage, RoomList, RoomUsers, SessionInfo } from '../../src/chat/protocol.js';

/** A refusal from the server, with its JSON error code and the Retry-After delay when given. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached');
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = (json ?? {}) as { error?: string; message?: string };
    const retry = Number(response.headers.get('Retry-After'));
    throw new ApiError(response.status, error.error ?? 'http', error.message ?? `HTTP ${response.status}`, Number.isFinite(retry) && retry > 0 ? retry : undefined);
  }
  return json as T;
}

const room = (name: string): string => `/api/rooms/${encodeURIComponent(name)}`;

export const api = {
  session: (): Promise<SessionInfo> => call('GET', '/api/session'),
  login: (nickname: string): Promise<SessionInfo> => call('POST', '/api/session', { nickname }),
  logout: (): Promise<void> => call('DELETE', '/api/session'),
  rooms: (): Promise<RoomList> => call('GET', '/api/rooms'),
  users: (name: string): Promise<RoomUsers> => call('GET', `${room(name)}/users`),
  history: (name: string, before?: string): Promise<HistoryPage> =>
    call('GET', `${room(name)}/messages${before === undefined ? '' : `?before=${encodeURIComponent(before)}`}`),
  send: (name: string, text: string, clientId: string): Promise<ChatMessage> => call('POST', `${room(name)}/messages`, { text, clientId }),
};
