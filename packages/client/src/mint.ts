// Minting the tokens Herald reads, in a backend (Node): `mercure.publish`,
// `mercure.subscribe` and `mercure.payload` (Herald's src/hub/auth/claims.ts), plus
// `sub` and `exp`. `jose` is imported only when a token is minted: it is an optional
// peer dependency, so the browser bundle carries none.

export interface MintOptions {
  /** The HMAC secret (string or bytes), or a private key (CryptoKey / KeyObject) for RS*, ES*, EdDSA. */
  readonly key: string | Uint8Array | CryptoKey | { readonly type: 'private' | 'secret'; readonly asymmetricKeyType?: string };
  /** Default HS256 (what Herald verifies by default). */
  readonly alg?: string;
  /** Lifetime: seconds, or a jose time span ("15m", "2h"). Default: no expiry. */
  readonly expiresIn?: number | string;
  /** The `sub` claim. */
  readonly subject?: string;
}

export interface Grants {
  /** Topic selectors this token may publish to (`*`: every topic). */
  readonly publish?: readonly string[];
  /** Topic selectors whose private updates this token may receive (and whose subscriptions it may list). */
  readonly subscribe?: readonly string[];
  /** What the hub shows of this subscriber in subscription events (the chat puts the nickname there). */
  readonly payload?: unknown;
}

export async function mintToken(grants: Grants, options: MintOptions): Promise<string> {
  const { SignJWT } = await import('jose');
  const mercure: Record<string, unknown> = {};
  if (grants.publish !== undefined) mercure.publish = [...grants.publish];
  if (grants.subscribe !== undefined) mercure.subscribe = [...grants.subscribe];
  if (grants.payload !== undefined) mercure.payload = grants.payload;
  const jwt = new SignJWT({ mercure }).setProtectedHeader({ alg: options.alg ?? 'HS256' }).setIssuedAt();
  if (options.subject !== undefined) jwt.setSubject(options.subject);
  if (options.expiresIn !== undefined) jwt.setExpirationTime(typeof options.expiresIn === 'number' ? Math.floor(Date.now() / 1000) + options.expiresIn : options.expiresIn);
  const key = typeof options.key === 'string' ? new TextEncoder().encode(options.key) : options.key;
  return jwt.sign(key as Parameters<typeof jwt.sign>[0]);
}

export const mintPublisherToken = (topics: readonly string[], options: MintOptions): Promise<string> => mintToken({ publish: topics }, options);

export const mintSubscriberToken = (topics: readonly string[], options: MintOptions & { readonly payload?: unknown }): Promise<string> =>
  mintToken({ subscribe: topics, ...(options.payload === undefined ? {} : { payload: options.payload }) }, options);
