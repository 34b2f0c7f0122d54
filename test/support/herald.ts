// Starting a real Herald on a loopback port for a test, minting tokens, publishing.
import { after, before } from 'node:test';
import { Writable } from 'node:stream';
import { SignJWT } from 'jose';
import { pino } from 'pino';
import { testConfig, type Config } from '../../src/config.js';
import { startHerald, type Herald } from '../../src/herald.js';

export const PUBLISHER_KEY = 'test-publisher-key-that-is-long-enough-0123456789';
export const SUBSCRIBER_KEY = 'test-subscriber-key-that-is-long-enough-0123456789';

export async function startTestHerald(overrides: Partial<Config> = {}): Promise<Herald> {
  return startHerald(testConfig({ publisherJwtKey: PUBLISHER_KEY, subscriberJwtKey: SUBSCRIBER_KEY, heartbeatSeconds: 0, ...overrides }));
}

export async function mintToken(claims: Record<string, unknown>, key: string, options: { expiresIn?: string | number } = {}): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  if (options.expiresIn !== undefined) jwt.setExpirationTime(options.expiresIn);
  return jwt.sign(new TextEncoder().encode(key));
}

export function publisherToken(publish: string[] = ['*']): Promise<string> {
  return mintToken({ mercure: { publish } }, PUBLISHER_KEY);
}

export function subscriberToken(subscribe: string[], payload?: unknown): Promise<string> {
  return mintToken({ mercure: { subscribe, ...(payload === undefined ? {} : { payload }) } }, SUBSCRIBER_KEY);
}

export type Fields = Array<[string, string]> | Record<string, string>;

export interface PublishResult {
  readonly status: number;
  readonly body: string;
  readonly headers: Headers;
}

/** POSTs a Mercure form; the fields are sent in order (repeat a name with the array form). */
export async function publish(baseUrl: string, fields: Fields, token?: string, contentType = 'application/x-www-form-urlencoded'): Promise<PublishResult> {
  const headers: Record<string, string> = { 'Content-Type': contentType };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${baseUrl}/.well-known/mercure`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(fields as Record<string, string>).toString(),
  });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

/** Publishes and insists on a 200; returns the id. */
export async function publishOk(baseUrl: string, fields: Fields, token?: string): Promise<string> {
  const result = await publish(baseUrl, fields, token ?? (await publisherToken()));
  if (result.status !== 200) throw new Error(`publish failed: ${result.status} ${result.body}`);
  return result.body;
}

export function hubUrl(baseUrl: string, params: Array<[string, string]>): string {
  return `${baseUrl}/.well-known/mercure?${new URLSearchParams(params).toString()}`;
}

export interface HeraldFixture {
  readonly herald: Herald;
  /** A publisher token allowed to publish everywhere. */
  readonly token: string;
}

/** Starts a Herald before the enclosing suite's tests and closes it after them. */
export function useHerald(overrides: Partial<Config> = {}): HeraldFixture {
  const fixture = {} as { herald: Herald; token: string };
  before(async () => {
    fixture.herald = await startTestHerald(overrides);
    fixture.token = await publisherToken();
  });
  after(() => fixture.herald.close());
  return fixture;
}

/**
 * Runs `run` against a Herald (no chat, no presence) whose log lines are kept, so a
 * test can count what was logged; the server is closed afterwards whatever happens.
 */
export async function withHerald(overrides: Partial<Config>, run: (herald: Herald, logs: Array<Record<string, unknown>>) => Promise<void>): Promise<void> {
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) });
  const herald = await startHerald(testConfig({ publisherJwtKey: PUBLISHER_KEY, subscriberJwtKey: SUBSCRIBER_KEY, heartbeatSeconds: 0, chat: false, subscriptions: false, ...overrides }), pino({ level: 'info' }, sink));
  try {
    await run(herald, logs);
  } finally {
    await herald.close();
  }
}

/** The two front doors: suites about the wire run once through each (`rawFrontDoor` is the only difference). */
export const FRONT_DOORS = [
  { name: 'node:http door', config: { rawFrontDoor: false } },
  { name: 'raw door', config: { rawFrontDoor: true } },
] as const satisfies readonly { name: string; config: Partial<Config> }[];
