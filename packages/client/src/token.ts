// Tokens as the client sees them: a string or a function that fetches one, and the
// `exp` claim read (not verified: the hub verifies) to renew before it runs out.

export type TokenSource = string | (() => string | Promise<string>);

export async function resolveToken(source: TokenSource | undefined): Promise<string | undefined> {
  if (source === undefined) return undefined;
  return typeof source === 'string' ? source : await source();
}

/** The token's `exp` in ms since the epoch, or undefined when it has none or is not a JWT. */
export function expiresAt(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    const json = new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * When to renew a token expiring at `exp`: a fifth of its remaining life early, at least
 * one second and at most `leadMs`, so a short-lived token still renews in time.
 */
export function renewalDelay(exp: number, now: number, leadMs: number): number {
  const remaining = exp - now;
  const lead = Math.max(1000, Math.min(leadMs, remaining / 5));
  return Math.max(0, remaining - lead);
}
