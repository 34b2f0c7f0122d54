// A chat session is the hub's own subscriber token in an HttpOnly cookie: the same
// JWT lets the page subscribe (the hub reads the mercureAuthorization cookie) and
// carries the person's id and nickname as the Mercure `payload`, which is what the
// hub's presence events and subscriptions list show to the others.
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { jwtVerify, SignJWT } from 'jose';
import { HeraldError } from '../errors.js';
import type { SubscriptionsFormat } from '../hub/mercure-paths.js';
import { hasVisibleCharacter, isChatUser, NICKNAME_MAX, sessionSelectors, textLength, type ChatUser } from './protocol.js';

export const SESSION_COOKIE = 'mercureAuthorization';
/** A session lasts 30 days; posting a nickname again renews it. */
export const SESSION_SECONDS = 30 * 24 * 3600;

export interface SessionKeys {
  /** The hub's subscriber key (an HMAC secret). */
  readonly key: string;
  /** HS256, HS384 or HS512: the hub verifies with the same algorithm. */
  readonly algorithm: string;
  readonly now: () => number;
  /** The hub's --subscriptions-format: which presence topics the token grants. */
  readonly presenceFormat: SubscriptionsFormat;
  /** Sign sessions as draft 08 access tokens (typ at+jwt) of this issuer for this resource (--mercure-profile draft). */
  readonly accessToken?: { readonly issuer: string; readonly audience: string };
}

/**
 * Trimmed; 1..32 characters; no control characters, line breaks, lone surrogates or
 * bidi overrides (they would garble or disguise names in other people's lists).
 * Joiners stay allowed: emoji sequences need them.
 */
const FORBIDDEN_IN_NICKNAME = /\p{Cc}|\p{Cs}|\p{Zl}|\p{Zp}|[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/u;

export function validateNickname(raw: unknown): string {
  if (typeof raw !== 'string') throw new HeraldError('invalid_field', '"nickname" is required (a string)');
  const nickname = raw.trim();
  if (nickname === '') throw new HeraldError('invalid_field', '"nickname" must not be empty');
  if (textLength(nickname) > NICKNAME_MAX) throw new HeraldError('invalid_field', `"nickname" is longer than ${NICKNAME_MAX} characters`);
  if (FORBIDDEN_IN_NICKNAME.test(nickname)) throw new HeraldError('invalid_field', '"nickname" must not contain control or formatting characters');
  if (!hasVisibleCharacter(nickname)) throw new HeraldError('invalid_field', '"nickname" must contain a visible character');
  return nickname;
}

export function newUserId(): string {
  return randomUUID();
}

/** Throws HeraldError('invalid_config') unless the chat can sign sessions with this algorithm: checked at start. */
export function assertSessionAlgorithm(algorithm: string): void {
  if (!/^HS(256|384|512)$/.test(algorithm)) {
    throw new HeraldError('invalid_config', `The chat signs its session cookies with the subscriber key, which needs an HMAC --jwt-alg (HS256/384/512), not ${algorithm}: add --no-chat, or use an HS* algorithm`);
  }
}

function secret(keys: SessionKeys): Uint8Array {
  assertSessionAlgorithm(keys.algorithm);
  return new TextEncoder().encode(keys.key);
}

export async function signSession(user: ChatUser, keys: SessionKeys): Promise<string> {
  const issuedAt = Math.floor(keys.now() / 1000);
  const access = keys.accessToken;
  const jwt = new SignJWT({ mercure: { subscribe: sessionSelectors(keys.presenceFormat), payload: { userId: user.userId, nickname: user.nickname } } });
  if (access !== undefined) jwt.setIssuer(access.issuer).setAudience(access.audience);
  return jwt
    .setProtectedHeader(access === undefined ? { alg: keys.algorithm } : { alg: keys.algorithm, typ: 'at+jwt' })
    .setSubject(user.userId)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + SESSION_SECONDS)
    .sign(secret(keys));
}

/** The session's user, or undefined when there is no valid session cookie. */
export async function readSession(request: FastifyRequest, keys: SessionKeys): Promise<ChatUser | undefined> {
  const token = request.cookies[SESSION_COOKIE];
  if (token === undefined || token === '') return undefined;
  try {
    const { payload } = await jwtVerify(token, secret(keys), {
      algorithms: [keys.algorithm],
      currentDate: new Date(keys.now()),
    });
    const user = (payload.mercure as { payload?: unknown } | undefined)?.payload;
    return isChatUser(user) ? { userId: user.userId, nickname: user.nickname } : undefined;
  } catch (error) {
    if (error instanceof HeraldError) throw error;
    return undefined;
  }
}

export async function requireSession(request: FastifyRequest, keys: SessionKeys): Promise<ChatUser> {
  const user = await readSession(request, keys);
  if (user === undefined) throw new HeraldError('unauthorized', 'Choose a nickname first: POST /api/session {"nickname": "..."} sets the session cookie');
  return user;
}

/** Secure only when the browser reached us over TLS, else the cookie would never come back. */
function overTls(request: FastifyRequest): boolean {
  const forwarded = request.headers['x-forwarded-proto'];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
  return request.protocol === 'https' || proto === 'https';
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string): void {
  reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: overTls(request),
    maxAge: SESSION_SECONDS,
  });
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: overTls(request) });
}
