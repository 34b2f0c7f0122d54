// The chat application beside the hub: a JSON API under /api and the page at `/`.
// It publishes through hub.publishTrusted and reads presence from the hub's
// subscription records, so it never touches an event stream itself.
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { HeraldError } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import { HUB_PATH } from '../hub/mercure-paths.js';
import { messageUpdate, newMessage, readHistory, validateMessage } from './messages.js';
import { NICKNAME_MAX, presenceSelector, roomTopic, type ChatMessage, type HistoryPage, type RoomList, type RoomUsers, type SessionInfo } from './protocol.js';
import { RateLimiter, type RateLimitOptions } from './rate-limit.js';
import { listRooms, usersInRoom, validateRoom } from './rooms.js';
import { assertSameOrigin } from './same-origin.js';
import { clearSessionCookie, newUserId, readSession, requireSession, setSessionCookie, signSession, validateNickname, type SessionKeys } from './session.js';
import { registerPage } from './static.js';

/**
 * What the chat takes from the configuration, by Config's names (herald.ts passes its
 * Config): the JWT algorithm (HS* to sign sessions), the messages of the first history
 * page (and the default page size), the kept updates one public history request may
 * examine, the longest message in characters.
 */
export type ChatSettings = Pick<Config, 'jwtAlg' | 'chatHistory' | 'chatHistoryScan' | 'chatMaxLength'> &
  Partial<Pick<Config, 'mercureProfile' | 'jwtIssuer' | 'jwtAudience'>>;

export interface ChatOptions {
  readonly hub: Hub;
  /** The hub's subscriber key: session cookies are subscriber tokens. */
  readonly subscriberKey: string;
  readonly settings: ChatSettings;
  /** Per-person send limit. Default 5 per second, bursts of 10. */
  readonly rateLimit?: RateLimitOptions;
  readonly now?: () => number;
  /** Where the built page is (default web/dist). */
  readonly webRoot?: string;
}

const MAX_PAGE = 500;

interface RoomParams {
  room: string;
}

function pageSize(raw: unknown, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (typeof raw !== 'string' || !/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PAGE) {
    throw new HeraldError('invalid_field', `"limit" must be a whole number from 1 to ${MAX_PAGE}`);
  }
  return Number(raw);
}

function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('Cache-Control', 'no-store');
}

export function chatApp(options: ChatOptions): FastifyPluginAsync {
  const { hub } = options;
  const now = options.now ?? Date.now;
  const { chatHistory: historyLimit, chatMaxLength: maxTextLength, chatHistoryScan: historyScan } = options.settings;
  const { mercureProfile, jwtIssuer, jwtAudience } = options.settings;
  // The draft profile accepts access tokens only: sessions are then access tokens of --jwt-issuer for the hub's resource.
  const accessToken = mercureProfile === 'draft' && jwtIssuer !== undefined ? { issuer: jwtIssuer, audience: jwtAudience ?? `${hub.url}${HUB_PATH}` } : undefined;
  const keys: SessionKeys = { key: options.subscriberKey, algorithm: options.settings.jwtAlg, now, presenceFormat: hub.subscriptionsFormat, ...(accessToken === undefined ? {} : { accessToken }) };
  const limiter = new RateLimiter({ now, ...options.rateLimit });
  const limits = { maxTextLength, maxNicknameLength: NICKNAME_MAX };

  return async (app: FastifyInstance) => {
    // Every write is cookie-authenticated (even choosing a nickname), so every write is
    // checked. The hook is encapsulated in this plugin, so it runs on exactly the routes
    // the router matched to the chat, however the URL spelled them (`/%61pi/...`).
    app.addHook('onRequest', async (request: FastifyRequest) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') assertSameOrigin(request, hub.url);
    });

    app.get('/api/session', async (request, reply): Promise<SessionInfo> => {
      noStore(reply);
      return { session: (await readSession(request, keys)) ?? null, limits };
    });

    app.post('/api/session', async (request, reply): Promise<SessionInfo> => {
      const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>;
      const nickname = validateNickname(body.nickname);
      // Renaming keeps the person: the same userId, so presence and own messages stay theirs.
      const userId = (await readSession(request, keys))?.userId ?? newUserId();
      setSessionCookie(request, reply, await signSession({ userId, nickname }, keys));
      noStore(reply);
      return { session: { userId, nickname }, limits };
    });

    app.delete('/api/session', async (request, reply) => {
      clearSessionCookie(request, reply);
      return reply.code(204).send();
    });

    app.get('/api/rooms', async (_request, reply): Promise<RoomList> => {
      noStore(reply);
      return { rooms: listRooms(await hub.listSubscriptions()) };
    });

    app.get<{ Params: RoomParams }>('/api/rooms/:room/users', async (request, reply): Promise<RoomUsers> => {
      const room = validateRoom(request.params.room);
      noStore(reply);
      return { room, topic: roomTopic(room), users: usersInRoom(await hub.listSubscriptions(), room) };
    });

    app.get<{ Params: RoomParams; Querystring: Record<string, unknown> }>('/api/rooms/:room/messages', async (request, reply): Promise<HistoryPage> => {
      const room = validateRoom(request.params.room);
      const limit = pageSize(request.query.limit, historyLimit);
      const before = request.query.before;
      if (before !== undefined && (typeof before !== 'string' || before === '')) throw new HeraldError('invalid_field', '"before" must be a message id');
      // Read before the history: a stream resuming here may repeat a message, never miss one.
      const lastEventID = hub.currentLastEventId();
      const { messages, more, next } = await readHistory(hub, { room, limit, maxScan: historyScan, ...(before === undefined ? {} : { beforeId: before }) });
      noStore(reply);
      return { room, topic: roomTopic(room), messages, more, ...(next === undefined ? {} : { next }), lastEventID, selectors: [roomTopic(room), presenceSelector(room, hub.subscriptionsFormat)] };
    });

    app.post<{ Params: RoomParams }>('/api/rooms/:room/messages', async (request, reply): Promise<ChatMessage> => {
      const room = validateRoom(request.params.room);
      const user = await requireSession(request, keys);
      const decision = limiter.take(user.userId);
      if (!decision.allowed) {
        throw new HeraldError('rate_limited', `Too many messages: wait ${decision.retryAfterSeconds} s`, { 'Retry-After': String(decision.retryAfterSeconds) });
      }
      const message = newMessage(room, user, validateMessage(request.body, maxTextLength), now());
      await hub.publishTrusted(messageUpdate(message));
      return reply.code(201).send(message);
    });

    await registerPage(app, hub.url, options.webRoot);
  };
}
